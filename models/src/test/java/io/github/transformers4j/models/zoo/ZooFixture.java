package io.github.transformers4j.models.zoo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model-zoo parity fixture ({@code fixtures/models/<case>.safetensors}, written by tools/fixtures/gen_models.py from
 * the PyTorch twins in tools/fixtures/models.py): {@code input.*}, {@code param.<key>}, {@code output.*},
 * {@code gradout.*}, {@code grad.param.<key>}, and metadata {@code config} (JSON in the Java record's field names).
 */
final class ZooFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final double RTOL = 1e-4, ATOL = 1e-5;

    final String name;
    final Map<String, Tensor> tensors;
    final Map<String, String> metadata;

    private ZooFixture(String name, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.name = name;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    static Path resource(String file) {
        URL url = ZooFixture.class.getResource("/fixtures/models/" + file);
        if (url == null) throw new IllegalArgumentException("no test resource /fixtures/models/" + file);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static ZooFixture load(String name) {
        try (SafeTensorsFile f = SafeTensors.read(resource(name + ".safetensors"))) {
            Map<String, Tensor> ts = new LinkedHashMap<>();
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
            return new ZooFixture(name, ts, f.metadata());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The config metadata as the Java record {@code type}. */
    <T> T config(Class<T> type) {
        try {
            return JSON.readValue(metadata.get("config"), type);
        } catch (IOException e) {
            throw new UncheckedIOException(name + ": config " + metadata.get("config") + " is not a " + type.getSimpleName(), e);
        }
    }

    JsonNode meta(String key) {
        try {
            return JSON.readTree(metadata.get(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Tensor get(String key) {
        Tensor t = tensors.get(key);
        if (t == null) throw new IllegalArgumentException(name + ": no tensor '" + key + "'; has " + tensors.keySet());
        return t;
    }

    /** The PyTorch state dict: the {@code param.*} tensors without the prefix. */
    Map<String, Tensor> params() {
        Map<String, Tensor> p = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (k.startsWith("param.")) p.put(k.substring("param.".length()), v);
        });
        return p;
    }

    void assertClose(String key, Tensor actual, double rtol, double atol) {
        Tensor expected = get(key);
        assertThat(actual.shape()).as(name + " " + key + " shape").containsExactly(expected.shape());
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        double worst = 0;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            double excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
            if (excess > worst || Double.isNaN(a[i])) {
                worst = Double.isNaN(a[i]) ? Double.POSITIVE_INFINITY : excess;
                at = i;
            }
        }
        assertThat(at).as("%s %s: element %d is %s, PyTorch %s (rtol %g, atol %g)", name, key, at,
                at < 0 ? "-" : a[at], at < 0 ? "-" : e[at], rtol, atol).isEqualTo(-1);
    }

    void assertClose(String key, Tensor actual) {
        assertClose(key, actual, RTOL, ATOL);
    }

    /** Every {@code grad.param.<key>} against the named parameters' gradients (zeros where Java has none). */
    void assertParamGradsClose(Map<String, Parameter> params, double rtol, double atol) {
        int checked = 0;
        for (var e : tensors.entrySet()) {
            if (!e.getKey().startsWith("grad.param.")) continue;
            String key = e.getKey().substring("grad.param.".length());
            Parameter p = params.get(key);
            assertThat(p).as(name + ": parameter " + key).isNotNull();
            Tensor g = p.grad() == null ? Tensor.zerosLike(p.data()) : p.grad();
            assertClose(e.getKey(), g, rtol, atol);
            checked++;
        }
        assertThat(checked).as(name + ": parameter gradients checked").isEqualTo(params.size());
    }
}
