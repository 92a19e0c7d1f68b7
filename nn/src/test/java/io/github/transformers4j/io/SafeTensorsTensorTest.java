package io.github.transformers4j.io;

import static io.github.transformers4j.io.StFiles.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafeTensorsTensorTest {
    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(DType.class)
    void savesAndLoadsEveryEngineDtype(DType dtype) throws Exception {
        // Small integers are exact in every dtype, BOOL included after the cast (0 stays 0, others become 1).
        double[] values = {0, 1, 2, 0, 3, 1};
        Tensor matrix = Tensor.of(values, 2, 3).to(dtype);
        Tensor scalar = Tensor.scalar(1, dtype);
        Tensor empty = Tensor.zeros(dtype, 0, 4);
        var tensors = new LinkedHashMap<String, Tensor>();
        tensors.put("matrix", matrix);
        tensors.put("scalar", scalar);
        tensors.put("empty", empty);
        Path p = dir.resolve("t.safetensors");
        SafeTensors.save(p, tensors, Map.of("dtype", dtype.name()));

        LinkedHashMap<String, Tensor> loaded = SafeTensors.load(p);
        assertThat(loaded).containsOnlyKeys("matrix", "scalar", "empty");
        for (var e : tensors.entrySet()) {
            Tensor got = loaded.get(e.getKey());
            assertThat(got.dtype()).isEqualTo(dtype);
            assertThat(got.shape()).isEqualTo(e.getValue().shape());
            assertThat(got.toDoubleArray()).containsExactly(e.getValue().toDoubleArray());
        }
        assertThat(loaded.get("scalar").dim()).isZero();
        try (var f = SafeTensors.read(p)) {
            assertThat(f.metadata()).containsEntry("dtype", dtype.name());
            assertThat(f.tensor("matrix").dtype()).isEqualTo(dtype.name());
        }
    }

    @Test
    void savedF32BytesMatchTheSpec() throws Exception {
        Path p = dir.resolve("w.safetensors");
        SafeTensors.save(p, Map.of("w", Tensor.of(new float[] {1.5f, -2f, 0.25f, 8f}, 2, 2)), null);
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
        assertThat(Files.readAllBytes(p)).containsExactly(file(padded(header), f32(1.5f, -2f, 0.25f, 8f)));
    }

    @Test
    void loadsAHandBuiltFile() throws Exception {
        String header = "{\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]}}";
        byte[] data = concat(u64(-3), u64(1L << 40), f32(0.5f, -7f));
        Path p = dir.resolve("h.safetensors");
        Files.write(p, file(header, data));
        var loaded = SafeTensors.load(p);
        assertThat(loaded.sequencedKeySet()).containsExactly("i", "f");
        assertThat(loaded.get("i").toLongArray()).containsExactly(-3, 1L << 40);
        assertThat(loaded.get("f").shape()).containsExactly(1, 2);
        assertThat(loaded.get("f").toDoubleArray()).containsExactly(0.5, -7.0);
    }

    @Test
    void savesNonContiguousTensorsInLogicalOrder() throws Exception {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1); // [[1,4],[2,5],[3,6]]
        Path p = dir.resolve("t.safetensors");
        SafeTensors.save(p, Map.of("t", t), null);
        Tensor back = SafeTensors.load(p).get("t");
        assertThat(back.shape()).containsExactly(3, 2);
        assertThat(back.toDoubleArray()).containsExactly(1, 4, 2, 5, 3, 6);
    }

    @Test
    void dtypesTheEngineLacksAreReportedWithTheFileAndTensor() throws Exception {
        Path p = dir.resolve("q.safetensors");
        SafeTensors.write(p, Map.of("q", RawTensor.of("I8", new long[] {2}, bytes(-1, 5))), null);
        assertThatThrownBy(() -> SafeTensors.load(p))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageStartingWith(p + ": tensor 'q' has dtype I8, which Tensor does not support");
        try (var f = SafeTensors.read(p)) {
            assertThat(f.tensor("q").toByteArray()).containsExactly(-1, 5);
        }
    }

    @Test
    void dimensionsBeyondIntAreRejected() {
        // An empty tensor may declare a huge dimension; the engine's int shapes cannot hold it.
        RawTensor raw = RawTensor.of("F32", new long[] {0, 1L << 31}, new byte[0]);
        assertThatThrownBy(() -> SafeTensors.toTensor("src", "w", raw))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessage("src: tensor 'w' shape [0, 2147483648] has a dimension above Integer.MAX_VALUE");
    }

    @Test
    void loadWithMetadataKeepsTheFilesMetadata() throws Exception {
        Path p = dir.resolve("meta.safetensors");
        SafeTensors.save(p, Map.of("w", Tensor.of(new float[] {1, 2}, 2)), Map.of("format", "pt", "epoch", "3"));
        SafeTensors.Loaded l = SafeTensors.loadWithMetadata(p);
        assertThat(l.metadata()).containsEntry("format", "pt").containsEntry("epoch", "3");
        assertThat(l.tensors().get("w").toFloatArray()).containsExactly(1, 2);
        SafeTensors.save(p, Map.of("w", Tensor.of(new float[] {1}, 1)), Map.of());
        assertThat(SafeTensors.loadWithMetadata(p).metadata()).isEmpty();
    }
}
