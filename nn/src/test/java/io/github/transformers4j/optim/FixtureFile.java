package io.github.transformers4j.optim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.io.RawTensor;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A PyTorch parity fixture ({@code src/test/resources/fixtures/<name>.safetensors}, format in
 * {@code tools/fixtures/README.md}) read into Tensors. Minimal test helper for the recurrent and optim tests.
 */
public final class FixtureFile {
    private final String name;
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata;

    private FixtureFile(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.name = name;
        this.tensors.putAll(tensors);
        this.metadata = metadata;
    }

    /** name relative to fixtures/, without the extension: {@code "gru_cell"}, {@code "optim/adamw"}. */
    public static FixtureFile load(String name) {
        URL url = FixtureFile.class.getResource("/fixtures/" + name + ".safetensors");
        if (url == null) throw new IllegalArgumentException("no fixture fixtures/" + name + ".safetensors on the test classpath");
        try (SafeTensorsFile f = SafeTensors.read(Path.of(url.toURI()))) {
            Map<String, Tensor> ts = new LinkedHashMap<>();
            for (var e : f.tensors().entrySet()) ts.put(e.getKey(), toTensor(e.getValue()));
            return new FixtureFile(name, ts, Map.copyOf(f.metadata()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Tensor toTensor(RawTensor raw) {
        int[] shape = Arrays.stream(raw.shape()).mapToInt(Math::toIntExact).toArray();
        return Tensor.fromBytes(DType.valueOf(raw.dtype()), shape, raw.byteBuffer());
    }

    public String name() {
        return name;
    }

    public Tensor get(String key) {
        Tensor t = tensors.get(key);
        if (t == null) throw new IllegalArgumentException(name + ": no tensor '" + key + "' (has " + tensors.keySet() + ")");
        return t;
    }

    public boolean has(String key) {
        return tensors.containsKey(key);
    }

    /** Tensors whose names start with prefix, with the prefix removed, in file order. */
    public Map<String, Tensor> withPrefix(String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    public String metadata(String key) {
        String v = metadata.get(key);
        if (v == null) throw new IllegalArgumentException(name + ": no metadata '" + key + "' (has " + metadata.keySet() + ")");
        return v;
    }

    public JsonNode config() {
        try {
            return new ObjectMapper().readTree(metadata.get("config"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** |actual - expected| <= atol + rtol * |expected| element-wise, with a message naming the worst element. */
    public static void assertClose(String what, Tensor actual, Tensor expected, double rtol, double atol) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        double[] a = actual.contiguous().toDoubleArray(), e = expected.contiguous().toDoubleArray();
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < a.length; i++) {
            double excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (!(excess <= worstExcess)) {
                worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
                worst = i;
            }
        }
        if (worst >= 0) {
            throw new AssertionError(what + ": element " + worst + " is " + a[worst] + ", expected " + e[worst]
                    + " (rtol " + rtol + ", atol " + atol + ", shape " + Arrays.toString(expected.shape()) + ")");
        }
    }

    /** Largest |actual - expected| (for reporting). */
    public static double maxAbsDiff(Tensor actual, Tensor expected) {
        double[] a = actual.contiguous().toDoubleArray(), e = expected.contiguous().toDoubleArray();
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - e[i]));
        return m;
    }
}
