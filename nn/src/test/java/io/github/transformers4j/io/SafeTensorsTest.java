package io.github.transformers4j.io;

import static io.github.transformers4j.io.StFiles.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafeTensorsTest {
    @TempDir Path dir;

    private static RawTensor randomTensor(Random rng, String dtype, long... shape) {
        long n = RawTensor.itemSize(dtype);
        for (long d : shape) n *= d;
        byte[] bytes = new byte[(int) n];
        rng.nextBytes(bytes);
        return RawTensor.of(dtype, shape, bytes);
    }

    private SafeTensorsFile roundTrip(Map<String, RawTensor> tensors, Map<String, String> metadata) throws Exception {
        Path p = dir.resolve("t.safetensors");
        SafeTensors.write(p, tensors, metadata);
        return SafeTensors.read(p);
    }

    @ParameterizedTest
    @ValueSource(strings = {"F32", "F64", "BF16", "F16", "I64", "I32", "U8", "BOOL",
            "I8", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "C64"})
    void roundTripsEveryDtypeIncludingScalarsAndEmptyTensors(String dtype) throws Exception {
        Random rng = new Random(dtype.hashCode());
        var tensors = new LinkedHashMap<String, RawTensor>();
        tensors.put("matrix", randomTensor(rng, dtype, 3, 5));
        tensors.put("scalar", randomTensor(rng, dtype));
        tensors.put("empty", randomTensor(rng, dtype, 4, 0, 2));
        tensors.put("vector", randomTensor(rng, dtype, 7));
        try (SafeTensorsFile f = roundTrip(tensors, null)) {
            assertThat(f.tensors()).containsExactlyInAnyOrderEntriesOf(tensors);
            assertThat(f.tensor("scalar").shape()).isEmpty();
            assertThat(f.tensor("scalar").numel()).isEqualTo(1);
            assertThat(f.tensor("scalar").data().byteSize()).isEqualTo(RawTensor.itemSize(dtype));
            assertThat(f.tensor("empty").shape()).containsExactly(4, 0, 2);
            assertThat(f.tensor("empty").data().byteSize()).isZero();
            assertThat(f.metadata()).isEmpty();
        }
    }

    @Test
    void roundTripsMetadataIncludingUnicodeAndEscapes() throws Exception {
        var metadata = Map.of("format", "pt", "note", "quote \" backslash \\ newline \n tab \t é 😀",
                "", "empty key", "json", "{\"not\": \"parsed\"}");
        var tensors = Map.of("w", randomTensor(new Random(1), "F32", 2));
        try (SafeTensorsFile f = roundTrip(tensors, metadata)) {
            assertThat(f.metadata()).isEqualTo(metadata);
        }
    }

    @Test
    void writesNoMetadataKeyForEmptyMetadata() throws Exception {
        Path p = dir.resolve("e.safetensors");
        SafeTensors.write(p, Map.of(), Map.of());
        // The reference implementation's test vector for an empty file without metadata.
        assertThat(Files.readAllBytes(p)).containsExactly(8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32);
    }

    @Test
    void matchesTheReferenceImplementationsOwnTestVectors() throws Exception {
        // From huggingface/safetensors tensor.rs tests: serialize({"attn.0": F32 [1,2,3] = 0..5}, None).
        byte[] expected = bytes(64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
                116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
                58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
                101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
                0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64);
        Path p = dir.resolve("ref.safetensors");
        SafeTensors.write(p, Map.of("attn.0", RawTensor.of("F32", new long[] {1, 2, 3}, f32(0, 1, 2, 3, 4, 5))), null);
        assertThat(Files.readAllBytes(p)).containsExactly(expected);

        // serialize({}, Some({"framework": "pt"})): the header is padded with 5 spaces to 40 bytes.
        byte[] withMetadata = bytes(40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
                95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
                116, 34, 125, 125, 32, 32, 32, 32, 32);
        SafeTensors.write(p, Map.of(), Map.of("framework", "pt"));
        assertThat(Files.readAllBytes(p)).containsExactly(withMetadata);
    }

    @Test
    void writesByteExactlyWhatTheSpecPrescribes() throws Exception {
        // Given out of order: the writer sorts by dtype alignment (F64 > F32 > I16 > U8), then by name.
        var tensors = new LinkedHashMap<String, RawTensor>();
        tensors.put("u", RawTensor.of("U8", new long[] {3}, bytes(1, 2, 3)));
        tensors.put("b", RawTensor.of("F32", new long[] {2}, f32(1.5f, -2f)));
        tensors.put("a", RawTensor.of("F32", new long[] {}, f32(7f)));
        tensors.put("s", RawTensor.of("I16", new long[] {1, 1}, bytes(0x34, 0x12)));
        tensors.put("z", RawTensor.of("F64", new long[] {0}, new byte[0]));
        String header = "{\"__metadata__\":{\"a\":\"1\",\"format\":\"pt\"},"
                + "\"z\":{\"dtype\":\"F64\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                + "\"s\":{\"dtype\":\"I16\",\"shape\":[1,1],\"data_offsets\":[12,14]},"
                + "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[14,17]}}";
        byte[] expected = file(padded(header), concat(f32(7f), f32(1.5f, -2f), bytes(0x34, 0x12), bytes(1, 2, 3)));
        assertThat((expected.length - 17) % 8).isZero();

        Path p = dir.resolve("spec.safetensors");
        var metadata = new LinkedHashMap<String, String>();
        metadata.put("format", "pt");
        metadata.put("a", "1");
        SafeTensors.write(p, tensors, metadata);
        assertThat(Files.readAllBytes(p)).containsExactly(expected);
    }

    @Test
    void escapesNamesAsSerdeJsonDoes() throws Exception {
        // serde_json: short escapes for b t n f r, quote and backslash; other control characters as a 4-digit
        // lowercase hex escape; '/' and non-ASCII (BMP or not) as raw UTF-8.
        String name = "a\u0001\u000b\u001f\b\t\n\f\r\"\\/é😀";
        String escaped = "a\\u0001\\u000b\\u001f\\b\\t\\n\\f\\r\\\"\\\\/é😀";
        Path p = dir.resolve("esc.safetensors");
        SafeTensors.write(p, Map.of(name, RawTensor.of("U8", new long[] {1}, bytes(9))), null);
        String header = "{\"" + escaped + "\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        assertThat(Files.readAllBytes(p)).containsExactly(file(padded(header), bytes(9)));
        try (SafeTensorsFile f = SafeTensors.read(p)) {
            assertThat(f.tensors()).containsOnlyKeys(name);
        }
    }

    @Test
    void readsAHandBuiltFileInOffsetOrder() throws Exception {
        // Header order differs from data order; a gapless layout with an empty tensor in the middle.
        String header = "{\"second\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[8,10]},"
                + "\"__metadata__\":{\"k\":\"v\"},"
                + "\"empty\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                + "\"first\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ";
        byte[] data = concat(f32(3.25f, -0.5f), bytes(200, 7));
        try (SafeTensorsFile f = SafeTensors.read(file(header, data), "hand")) {
            assertThat(f.tensors().sequencedKeySet()).containsExactly("first", "empty", "second");
            assertThat(f.metadata()).containsExactly(Map.entry("k", "v"));
            RawTensor first = f.tensor("first");
            assertThat(first.dtype()).isEqualTo("F32");
            assertThat(first.byteBuffer().order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
            assertThat(first.byteBuffer().getFloat(0)).isEqualTo(3.25f);
            assertThat(first.byteBuffer().getFloat(4)).isEqualTo(-0.5f);
            assertThat(first.byteBuffer().isReadOnly()).isTrue();
            assertThat(f.tensor("second").toByteArray()).containsExactly(200, 7);
            assertThat(f.tensor("empty").numel()).isZero();
            assertThatThrownBy(() -> f.tensor("third")).hasMessageContaining("hand: no tensor 'third' (has 3: first, empty, second)");
        }
    }

    @Test
    void tensorDataIsReadOnlyAndAlignedToItsItemSize() throws Exception {
        Random rng = new Random(7);
        String[] dtypes = {"F64", "F32", "BF16", "U8", "I64", "BOOL", "I32", "F16"};
        var tensors = new LinkedHashMap<String, RawTensor>();
        for (int i = 0; i < 40; i++) {
            tensors.put("t" + i, randomTensor(rng, dtypes[rng.nextInt(dtypes.length)], rng.nextInt(4), 1 + rng.nextInt(5)));
        }
        try (SafeTensorsFile f = roundTrip(tensors, Map.of("k", "v".repeat(rng.nextInt(9))))) {
            assertThat(f.tensors()).containsExactlyInAnyOrderEntriesOf(tensors);
            for (RawTensor t : f.tensors().values()) {
                assertThat(t.data().isReadOnly()).isTrue();
                // Mapped files start page-aligned, so the address shows the in-file alignment.
                assertThat(t.data().address() % RawTensor.itemSize(t.dtype())).isZero();
            }
        }
    }

    @Test
    void sortsNamesByUtf8BytesLikeTheReference() throws Exception {
        // Java's String order puts U+1F600 (a surrogate pair, 0xD83D...) before U+FF61; UTF-8 order is the reverse.
        var tensors = new LinkedHashMap<String, RawTensor>();
        tensors.put("😀", RawTensor.of("U8", new long[] {1}, bytes(1)));
        tensors.put("｡", RawTensor.of("U8", new long[] {1}, bytes(2)));
        tensors.put("A", RawTensor.of("U8", new long[] {1}, bytes(3)));
        try (SafeTensorsFile f = roundTrip(tensors, null)) {
            assertThat(f.tensors().sequencedKeySet()).containsExactly("A", "｡", "😀");
        }
    }

    @Test
    void writesTensorsBackedByNonByteArraysAndNativeMemory() throws Exception {
        float[] values = {1f, 2f, -3f};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeSeg = arena.allocate(16);
            nativeSeg.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, -5L);
            nativeSeg.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8, 1L << 40);
            var tensors = Map.of(
                    "f", new RawTensor("F32", new long[] {3}, MemorySegment.ofArray(values).asReadOnly()),
                    "l", new RawTensor("I64", new long[] {2}, nativeSeg));
            try (SafeTensorsFile f = roundTrip(tensors, null)) {
                assertThat(f.tensor("f").toByteArray()).containsExactly(f32(1f, 2f, -3f));
                assertThat(f.tensor("l").byteBuffer().getLong(0)).isEqualTo(-5L);
                assertThat(f.tensor("l").byteBuffer().getLong(8)).isEqualTo(1L << 40);
            }
        }
    }

    @Test
    void mapsTensorsLargerThan2GiB() throws Exception {
        // A sparse file: 3 GiB of data region that occupies (almost) no disk.
        long n = 3L << 30;
        String header = padded("{\"big\":{\"dtype\":\"U8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}");
        Path p = dir.resolve("big.safetensors");
        Files.write(p, file(header, new byte[0]));
        try (var raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            raf.setLength(raf.length() + n);
            raf.seek(raf.length() - 1);
            raf.write(42);
        }
        try (SafeTensorsFile f = SafeTensors.read(p)) {
            RawTensor big = f.tensor("big");
            assertThat(big.numel()).isEqualTo(n);
            assertThat(big.data().get(ValueLayout.JAVA_BYTE, n - 1)).isEqualTo((byte) 42);
            assertThat(big.data().get(ValueLayout.JAVA_BYTE, n / 2)).isZero();
            assertThatThrownBy(big::byteBuffer).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("3221225472 bytes exceed the 2 GiB limit");
        }
    }

    @Test
    void closingUnmapsTheData() throws Exception {
        SafeTensorsFile f = roundTrip(Map.of("w", randomTensor(new Random(3), "F32", 4)), null);
        RawTensor w = f.tensor("w");
        f.close();
        f.close();
        assertThatThrownBy(() -> w.data().get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void writeRejectsReservedAndInvalidNames() {
        RawTensor t = RawTensor.of("U8", new long[] {1}, bytes(1));
        Path p = dir.resolve("bad.safetensors");
        assertThatThrownBy(() -> SafeTensors.write(p, Map.of("__metadata__", t), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot be named __metadata__");
        assertThatThrownBy(() -> SafeTensors.write(p, Map.of("bad\uD800", t), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid Unicode");
        assertThat(p).doesNotExist();
    }

    @Test
    void rawTensorChecksDtypeAndByteCount() {
        assertThatThrownBy(() -> RawTensor.of("F32", new long[] {2, 2}, new byte[12]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("RawTensor: data has 12 bytes but shape [2, 2] x F32 needs 16");
        assertThatThrownBy(() -> RawTensor.of("float32", new long[] {1}, new byte[4]))
                .hasMessageContaining("unknown dtype 'float32'");
        assertThatThrownBy(() -> RawTensor.of("U8", new long[] {-1}, new byte[0]))
                .hasMessageContaining("negative dimension");
        assertThatThrownBy(() -> RawTensor.of("F64", new long[] {1L << 62, 4}, new byte[0]))
                .hasMessageContaining("overflows");
    }

    @Test
    void writeAcceptsAnyMapAndReadGivesASequencedMapInFileOrder() throws Exception {
        Random rng = new Random(11);
        SequencedMap<String, RawTensor> tensors = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        for (int i = 9; i >= 0; i--) {
            names.add("layer." + i + ".weight");
            tensors.put("layer." + i + ".weight", randomTensor(rng, "F32", 2, 2));
        }
        try (SafeTensorsFile f = roundTrip(tensors, null)) {
            assertThat(f.tensors().sequencedKeySet()).containsExactlyElementsOf(names.reversed());
        }
    }
}
