package io.github.transformers4j.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with the official implementation: files written by Python's {@code safetensors} package
 * (0.8.0, its Rust writer) must read correctly, and the Java writer must reproduce them byte for byte.
 * {@code reference_dtypes.safetensors} comes from {@code tools/fixtures/safetensors_reference.py};
 * {@code fixtures/statedict/*} from {@code tools/fixtures/gen_all.py}.
 */
class SafeTensorsReferenceTest {
    @TempDir Path dir;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(SafeTensorsReferenceTest.class.getResource(name).toURI());
    }

    /** Writes the tensors back, given in shuffled order, and returns the bytes. */
    private byte[] rewrite(SafeTensorsFile f) throws Exception {
        List<Map.Entry<String, RawTensor>> entries = new ArrayList<>(f.tensors().entrySet());
        Collections.shuffle(entries, new Random(5));
        var shuffled = new LinkedHashMap<String, RawTensor>();
        for (var e : entries) shuffled.put(e.getKey(), e.getValue());
        Path out = dir.resolve("rewrite.safetensors");
        SafeTensors.write(out, shuffled, f.metadata());
        return Files.readAllBytes(out);
    }

    private static short bf16(float f) {
        return (short) (Float.floatToIntBits(f) >>> 16); // exact for values with at most 8 significant bits
    }

    @Test
    void readsTheReferenceMultiDtypeFile() throws Exception {
        try (SafeTensorsFile f = SafeTensors.read(resource("reference_dtypes.safetensors"))) {
            assertThat(f.metadata()).containsExactly(Map.entry("format", "pt"));
            // The reference's order: dtype alignment descending (I64 > F64 > F32 > I32 > BF16 > F16 > I16 >
            // F8_E4M3 > I8 > U8 > BOOL), then name by UTF-8 bytes.
            assertThat(f.tensors().sequencedKeySet()).containsExactly("i64", "f64", "empty", "f32", "layer.10.weight",
                    "layer.9.weight", "scalar", "\uff61", "\ud83d\ude00", "i32", "bf16", "f16", "i16", "f8", "i8", "u8", "bool");

            ByteBuffer i64 = f.tensor("i64").byteBuffer();
            assertThat(new long[] {i64.getLong(0), i64.getLong(8)}).containsExactly(-3, 1L << 40);
            ByteBuffer f64 = f.tensor("f64").byteBuffer();
            assertThat(new double[] {f64.getDouble(0), f64.getDouble(8), f64.getDouble(16)}).containsExactly(-1, 0.5, 2);
            RawTensor f32 = f.tensor("f32");
            assertThat(f32.shape()).containsExactly(2, 3);
            for (int i = 0; i < 6; i++) assertThat(f32.byteBuffer().getFloat(4 * i)).isEqualTo(i / 4f - 0.5f);
            assertThat(f.tensor("scalar").shape()).isEmpty();
            assertThat(f.tensor("scalar").byteBuffer().getFloat(0)).isEqualTo(2.5f);
            assertThat(f.tensor("empty").shape()).containsExactly(0, 3);
            assertThat(f.tensor("empty").numel()).isZero();
            assertThat(f.tensor("layer.9.weight").byteBuffer().getFloat(12)).isEqualTo(3f);
            assertThat(f.tensor("i32").byteBuffer().getInt(4)).isEqualTo(-8);
            ByteBuffer b16 = f.tensor("bf16").byteBuffer();
            assertThat(new short[] {b16.getShort(0), b16.getShort(2), b16.getShort(4)})
                    .containsExactly(bf16(1f), bf16(-2.5f), bf16(0.15625f));
            ByteBuffer h16 = f.tensor("f16").byteBuffer();
            assertThat(Float.float16ToFloat(h16.getShort(0))).isEqualTo(0.5f);
            assertThat(Float.float16ToFloat(h16.getShort(2))).isEqualTo(-65504f);
            ByteBuffer i16 = f.tensor("i16").byteBuffer();
            assertThat(new short[] {i16.getShort(0), i16.getShort(2)}).containsExactly((short) -2, (short) 300);
            // float8_e4m3fn: 1.0 = 0 0111 000, -0.5 = 1 0110 000.
            assertThat(f.tensor("f8").dtype()).isEqualTo("F8_E4M3");
            assertThat(f.tensor("f8").toByteArray()).containsExactly(0x38, 0xB0);
            assertThat(f.tensor("i8").toByteArray()).containsExactly(-128, 5);
            assertThat(f.tensor("u8").toByteArray()).containsExactly(0, 255, 7);
            assertThat(f.tensor("bool").toByteArray()).containsExactly(1, 0, 1);
        }
    }

    @Test
    void rewritesTheReferenceFileByteForByte() throws Exception {
        Path ref = resource("reference_dtypes.safetensors");
        try (SafeTensorsFile f = SafeTensors.read(ref)) {
            assertThat(rewrite(f)).containsExactly(Files.readAllBytes(ref));
        }
    }

    @Test
    void rewritesTheReferenceStateDictsByteForByte() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(resource("/fixtures/statedict"))) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(5);
        for (Path p : files) {
            try (SafeTensorsFile f = SafeTensors.read(p)) {
                assertThat(rewrite(f)).as(p.toString()).containsExactly(Files.readAllBytes(p));
            }
        }
    }

    @Test
    void acceptsEveryParityFixture() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(resource("/fixtures"))) {
            files = s.filter(p -> p.toString().endsWith(".safetensors")).toList();
        }
        assertThat(files).hasSizeGreaterThanOrEqualTo(20);
        for (Path p : files) {
            try (SafeTensorsFile f = SafeTensors.read(p)) {
                assertThat(f.tensors()).as(p.toString()).isNotEmpty();
            }
        }
    }
}
