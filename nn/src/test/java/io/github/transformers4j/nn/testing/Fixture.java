package io.github.transformers4j.nn.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.io.RawTensor;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One PyTorch parity fixture ({@code src/test/resources/fixtures/<name>.safetensors}, convention in
 * {@code tools/fixtures/README.md}), read fully into tensors: {@code input.*}, {@code param.*} (the PyTorch state dict),
 * {@code output.*}, {@code gradout.*}, {@code grad.input.*}, {@code grad.param.*}, and the {@code config} metadata as JSON.
 *
 * <pre>{@code
 * var fx = Fixture.load("linear");
 * var lin = new Linear(fx.config().get("in_features").asInt(), ...);
 * lin.loadStateDict(fx.params(), true);
 * Tensor x = fx.inputWithGrad("input");
 * Tensor out = lin.forward(x);
 * fx.assertClose("output.out", out);
 * fx.loss(Map.of("out", out)).backward();
 * fx.assertClose("grad.input.input", x.grad());
 * fx.assertParamGradsClose(lin.namedParameters());
 * }</pre>
 */
public final class Fixture {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Tolerances of the parity checks: fp32 as the design notes say, fp64 tighter. */
    public static final double RTOL_F32 = 1e-4, ATOL_F32 = 1e-5, RTOL_F64 = 1e-9, ATOL_F64 = 1e-11;

    private final String name;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final JsonNode config;

    private Fixture(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.name = name;
        this.tensors = tensors;
        this.metadata = metadata;
        try {
            this.config = JSON.readTree(metadata.getOrDefault("config", "{}"));
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": config metadata is not JSON", e);
        }
    }

    /** A fixture by its name relative to {@code fixtures/}, with or without {@code .safetensors} ("sdpa_plain", "optim/sgd"). */
    public static Fixture load(String name) {
        String file = name.endsWith(".safetensors") ? name : name + ".safetensors";
        URL url = Fixture.class.getResource("/fixtures/" + file);
        if (url == null) throw new IllegalArgumentException("no fixture resource /fixtures/" + file);
        try {
            return load(Path.of(url.toURI()), file.substring(0, file.length() - ".safetensors".length()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public static Fixture load(Path path, String name) {
        try (SafeTensorsFile f = SafeTensors.read(path)) {
            Map<String, Tensor> ts = new LinkedHashMap<>();
            // fixture tensors are shared by a test's whole run: never let a caller's memory scope free them
            Memory.unscoped(() -> {
                f.tensors().forEach((k, raw) -> {
                    try {
                        ts.put(k, SafeTensors.toTensor(f.source(), k, raw).keep());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                return null;
            });
            return new Fixture(name, Collections.unmodifiableMap(ts), f.metadata());
        } catch (IOException e) {
            throw new UncheckedIOException("reading fixture " + path, e);
        }
    }

    /** A safetensors tensor as an engine tensor (copied out of the mapping); {@code what} names it in errors. */
    public static Tensor toTensor(RawTensor raw, String what) {
        try {
            return SafeTensors.toTensor(what, "", raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The names of every fixture listed in {@code fixtures/index.json} (e.g. "sdpa_plain", "optim/adam_default"). */
    public static List<String> indexNames() {
        try (InputStream in = Fixture.class.getResourceAsStream("/fixtures/index.json")) {
            if (in == null) throw new IllegalStateException("no /fixtures/index.json on the test classpath");
            List<String> out = new ArrayList<>();
            for (Iterator<String> it = JSON.readTree(in).get("files").fieldNames(); it.hasNext(); ) {
                String f = it.next();
                out.add(f.substring(0, f.length() - ".safetensors".length()));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String name() {
        return name;
    }

    /** The {@code config} metadata (constructor and call arguments, plus "dtype"). */
    public JsonNode config() {
        return config;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** Floating dtype of the case (config "dtype", F32 when absent). */
    public DType dtype() {
        JsonNode d = config.get("dtype");
        return d == null ? DType.F32 : DType.valueOf(d.asText());
    }

    public double rtol() {
        return dtype() == DType.F64 ? RTOL_F64 : RTOL_F32;
    }

    public double atol() {
        return dtype() == DType.F64 ? ATOL_F64 : ATOL_F32;
    }

    public boolean has(String tensorName) {
        return tensors.containsKey(tensorName);
    }

    /** The stored tensor (shared: do not modify it; clone it if you must). */
    public Tensor tensor(String tensorName) {
        Tensor t = tensors.get(tensorName);
        if (t == null) throw new IllegalArgumentException("fixture " + name + ": no tensor '" + tensorName + "' (has " + tensors.keySet() + ")");
        return t;
    }

    /** Input {@code input.<n>}, or null if the fixture has none by that name. */
    public Tensor input(String n) {
        return tensors.get("input." + n);
    }

    /** A fresh leaf copy of floating input {@code input.<n>} that requires grad (for {@code grad.input.<n>}). */
    public Tensor inputWithGrad(String n) {
        return tensor("input." + n).clone().detach().requiresGrad(true);
    }

    /** Tensors whose name starts with {@code prefix}, with the prefix removed, in file order. */
    public Map<String, Tensor> withPrefix(String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    /** The PyTorch state dict ({@code param.*} with the prefix stripped): load it with strict=true. */
    public Map<String, Tensor> params() {
        return withPrefix("param.");
    }

    /** The gradients PyTorch computed for parameters, by state-dict key. */
    public Map<String, Tensor> paramGrads() {
        return withPrefix("grad.param.");
    }

    /** {@code loss = sum over outputs o with a gradout.o of sum(o * gradout.o)} (the fixtures' backward convention). */
    public Tensor loss(Map<String, Tensor> outputs) {
        Tensor loss = null;
        for (var e : withPrefix("gradout.").entrySet()) {
            Tensor o = outputs.get(e.getKey());
            if (o == null) throw new IllegalArgumentException("fixture " + name + ": output '" + e.getKey() + "' has a gradout but was not given");
            Tensor term = o.mul(e.getValue()).sum();
            loss = loss == null ? term : loss.add(term);
        }
        if (loss == null) throw new IllegalStateException("fixture " + name + " has no gradout.* tensors");
        return loss;
    }

    /** Compares {@code actual} with stored tensor {@code expectedName} at this fixture's tolerance. */
    public void assertClose(String expectedName, Tensor actual) {
        assertClose(name + " " + expectedName, actual, tensor(expectedName), rtol(), atol());
    }

    /** Every {@code grad.param.<key>} against the gradient of the module parameter with that key (missing grad = zeros). */
    public void assertParamGradsClose(Map<String, ? extends Object> namedParameters) {
        for (var e : paramGrads().entrySet()) {
            Object p = namedParameters.get(e.getKey());
            if (p == null) throw new AssertionError(name + ": module has no parameter '" + e.getKey() + "' (has " + namedParameters.keySet() + ")");
            Tensor g = gradOf(p);
            assertClose(name + " grad.param." + e.getKey(), g == null ? Tensor.zerosLike(e.getValue()) : g, e.getValue(), rtol(), atol());
        }
    }

    private static Tensor gradOf(Object p) {
        if (p instanceof Tensor t) return t.grad();
        if (p instanceof io.github.transformers4j.nn.Parameter q) return q.grad();
        throw new IllegalArgumentException("not a Tensor or Parameter: " + p);
    }

    /**
     * |actual - expected| <= atol + rtol * |expected| everywhere (torch.testing.assert_close); shapes must match and
     * infinities/NaN must sit at the same places. The failure names the worst element.
     */
    public static void assertClose(String what, Tensor actual, Tensor expected, double rtol, double atol) {
        if (actual == null) throw new AssertionError(what + ": no tensor (null), expected " + Arrays.toString(expected.shape()));
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            throw new AssertionError(what + ": shape " + Arrays.toString(actual.shape()) + ", expected " + Arrays.toString(expected.shape()));
        }
        double[] a = actual.to(DType.F64).toDoubleArray(), e = expected.to(DType.F64).toDoubleArray();
        int worst = -1;
        double worstExcess = 0, worstDiff = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(e[i]) || Double.isInfinite(e[i]) || Double.isNaN(a[i]) || Double.isInfinite(a[i])) {
                if (Double.compare(a[i], e[i]) != 0) {
                    throw new AssertionError(what + ": element " + i + " is " + a[i] + ", expected " + e[i]);
                }
                continue;
            }
            double diff = Math.abs(a[i] - e[i]), excess = diff - (atol + rtol * Math.abs(e[i]));
            if (excess > worstExcess) {
                worstExcess = excess;
                worst = i;
            }
            worstDiff = Math.max(worstDiff, diff);
        }
        if (worst >= 0) {
            throw new AssertionError(String.format("%s %s: element %d is %.9g, expected %.9g (|diff| %.3g > atol %.1g + rtol %.1g * |expected|); max |diff| %.3g",
                    what, Arrays.toString(expected.shape()), worst, a[worst], e[worst], Math.abs(a[worst] - e[worst]), atol, rtol, worstDiff));
        }
    }

    /** Largest |actual - expected| (for reporting). */
    public static double maxAbsDiff(Tensor actual, Tensor expected) {
        double[] a = actual.to(DType.F64).toDoubleArray(), e = expected.to(DType.F64).toDoubleArray();
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
        return m;
    }

    @Override
    public String toString() {
        return name;
    }
}
