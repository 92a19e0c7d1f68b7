package io.github.transformers4j.io;

import static io.github.transformers4j.io.StFiles.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One malformed file per rule; each must fail with SafeTensorsException naming the source and the problem. */
class SafeTensorsValidationTest {
    @TempDir Path dir;

    private static final String W = "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}";

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejects(byte[] file) {
        return assertThatThrownBy(() -> SafeTensors.read(file, "bad.safetensors"))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessageStartingWith("bad.safetensors: ");
    }

    private static AbstractThrowableAssert<?, ? extends Throwable> assertRejects(String header, int dataBytes) {
        return assertRejects(file(header, new byte[dataBytes]));
    }

    @Test
    void aValidBaselineIsAccepted() throws Exception {
        // Guards the tests below: each breaks exactly one thing of this file.
        try (var f = SafeTensors.read(file("{" + W + "}", new byte[16]), "ok")) {
            assertThat(f.tensors()).containsOnlyKeys("w");
        }
    }

    @Test
    void reportsTheFilePathForFilesOnDisk() throws Exception {
        Path p = dir.resolve("model.safetensors");
        Files.write(p, file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", new byte[12]));
        assertThatThrownBy(() -> SafeTensors.read(p))
                .isInstanceOf(SafeTensorsException.class)
                .hasMessage(p + ": tensor 'w' data_offsets [0, 12] do not match shape [2, 2] x F32 = 16 bytes")
                .satisfies(e -> assertThat(((SafeTensorsException) e).problem())
                        .isEqualTo("tensor 'w' data_offsets [0, 12] do not match shape [2, 2] x F32 = 16 bytes"));
    }

    @Test
    void fileShorterThanTheLengthPrefix() throws Exception {
        assertRejects(bytes(1, 0, 0)).hasMessage("bad.safetensors: file has 3 bytes, fewer than the 8-byte header length");
        Path empty = Files.createFile(dir.resolve("empty.safetensors"));
        assertThatThrownBy(() -> SafeTensors.read(empty)).isInstanceOf(SafeTensorsException.class)
                .hasMessage(empty + ": file has 0 bytes, fewer than the 8-byte header length");
    }

    @Test
    void headerLengthAboveTheLimitIncludingU64Max() {
        assertRejects(concat(u64(-1), bytes('{', '}')))
                .hasMessage("bad.safetensors: header length 18446744073709551615 exceeds the limit of 100000000 bytes");
        assertRejects(concat(u64(Long.MAX_VALUE), bytes('{', '}'))).hasMessageContaining("header length 9223372036854775807 exceeds the limit");
        assertRejects(concat(u64(100_000_001), bytes('{', '}'))).hasMessageContaining("exceeds the limit of 100000000 bytes");
    }

    @Test
    void headerLengthBeyondTheFile() {
        assertRejects(concat(u64(100), bytes('{', '}'))).hasMessage("bad.safetensors: header length 100 exceeds the 2 bytes that follow the length prefix");
    }

    @Test
    void headerNotUtf8() {
        assertRejects(concat(u64(4), bytes('{', 0xC3, 0x28, '}'))).hasMessage("bad.safetensors: header is not valid UTF-8");
        // An overlong encoding of '/' is not valid UTF-8 either.
        assertRejects(concat(u64(4), bytes('{', 0xC0, 0xAF, '}'))).hasMessageContaining("not valid UTF-8");
    }

    @Test
    void headerNotStartingWithBrace() {
        assertRejects("[1,2]", 0).hasMessage("bad.safetensors: header does not start with '{'");
        assertRejects(" {}", 0).hasMessageContaining("does not start with '{'");
        assertRejects("", 0).hasMessageContaining("does not start with '{'");
        assertRejects("\uFEFF{}", 0).hasMessageContaining("does not start with '{'");
    }

    @Test
    void headerNotValidJson() {
        assertRejects("{\"w\":", 0).hasMessageContaining("header is not valid JSON");
        assertRejects("{'w':1}", 0).hasMessageContaining("header is not valid JSON");
        assertRejects("{\"__metadata__\":{\"a\":\"b\",}}", 0).hasMessageContaining("header is not valid JSON");
        assertRejects("{} trailing", 0).hasMessageContaining("header is not valid JSON");
        assertRejects("{}{}", 0).hasMessage("bad.safetensors: unexpected content after the header's JSON object");
    }

    @Test
    void trailingWhitespaceIsAccepted() throws Exception {
        try (var f = SafeTensors.read(file("{}  \n\t ", new byte[0]), "ok")) {
            assertThat(f.tensors()).isEmpty();
        }
    }

    @Test
    void duplicateKeys() {
        assertRejects("{" + W + "," + W + "}", 16).hasMessage("bad.safetensors: duplicate key 'w' in header");
        assertRejects("{\"__metadata__\":{},\"__metadata__\":{}}", 0).hasMessageContaining("duplicate key '__metadata__' in header");
        assertRejects("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0).hasMessage("bad.safetensors: duplicate key 'k' in __metadata__");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': duplicate field 'dtype'");
    }

    @Test
    void metadataMustBeAnObjectOfStrings() {
        assertRejects("{\"__metadata__\":[]}", 0).hasMessage("bad.safetensors: __metadata__ is an array, expected an object of strings");
        assertRejects("{\"__metadata__\":null}", 0).hasMessageContaining("__metadata__ is null");
        assertRejects("{\"__metadata__\":{\"epoch\":3}}", 0).hasMessage("bad.safetensors: __metadata__ value of 'epoch' is a number, expected a string");
        assertRejects("{\"__metadata__\":{\"x\":{\"nested\":\"y\"}}}", 0).hasMessageContaining("value of 'x' is an object");
    }

    @Test
    void entryMustBeAnObjectWithExactlyTheThreeFields() {
        assertRejects("{\"w\":\"F32\"}", 0).hasMessage("bad.safetensors: tensor 'w' is a string, expected an object");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}", 0).hasMessage("bad.safetensors: tensor 'w': missing field 'shape'");
        assertRejects("{\"w\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4).hasMessageContaining("tensor 'w': missing field 'dtype'");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[]}}", 4).hasMessageContaining("tensor 'w': missing field 'data_offsets'");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"offset\":0}}", 4)
                .hasMessage("bad.safetensors: tensor 'w': unknown field 'offset' (expected dtype, shape, data_offsets)");
        assertRejects("{\"w\":{\"dtype\":32,\"shape\":[],\"data_offsets\":[0,4]}}", 4).hasMessageContaining("tensor 'w': dtype is a number, expected a string");
    }

    @Test
    void unknownAndSubByteDtypes() {
        assertRejects("{\"w\":{\"dtype\":\"F128\",\"shape\":[],\"data_offsets\":[0,16]}}", 16)
                .hasMessageStartingWith("bad.safetensors: tensor 'w': unknown dtype 'F128' (known: BOOL, U8, I8,");
        assertRejects("{\"w\":{\"dtype\":\"f32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4).hasMessageContaining("unknown dtype 'f32'");
        assertRejects("{\"w\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 1)
                .hasMessage("bad.safetensors: tensor 'w': sub-byte dtype F4 is not supported");
    }

    @Test
    void shapeMustHoldNonNegative64BitIntegers() {
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': shape value -2 is negative");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0,2],\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': shape value 2.0 is not an integer");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': shape value 18446744073709551616 is out of the 64-bit range");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[[2],2],\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': shape contains an array, expected non-negative integers");
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'w': shape is a number, expected an array of integers");
    }

    @Test
    void dataOffsetsMustBeTwoOrderedIntegers() {
        assertRejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 2)
                .hasMessage("bad.safetensors: tensor 'w': data_offsets has 3 values, expected 2 [begin, end]");
        assertRejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1)
                .hasMessage("bad.safetensors: tensor 'w': data_offsets value -1 is negative");
        assertRejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[\"0\",\"1\"]}}", 1)
                .hasMessageContaining("tensor 'w': data_offsets contains a string");
        assertRejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4)
                .hasMessage("bad.safetensors: tensor 'w' data_offsets [4, 0] have begin > end");
    }

    @Test
    void byteCountMustMatchShapeTimesItemSize() {
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12)
                .hasMessage("bad.safetensors: tensor 'w' data_offsets [0, 12] do not match shape [2, 2] x F32 = 16 bytes");
        assertRejects("{\"w\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,4]}}", 4)
                .hasMessage("bad.safetensors: tensor 'w' data_offsets [0, 4] do not match shape [] x BF16 = 2 bytes");
    }

    @Test
    void byteCountOverflowIsDetectedNotWrapped() {
        // 2^62 * 4 * 4 bytes wraps to 0 in 64-bit arithmetic; a naive check would accept data_offsets [0, 0].
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0)
                .hasMessage("bad.safetensors: tensor 'w': shape [4611686018427387904, 4] x F32 overflows a 64-bit byte count");
    }

    @Test
    void zeroDimensionMakesAnEmptyTensorEvenWithHugeOtherDimensions() throws Exception {
        byte[] f = file("{\"w\":{\"dtype\":\"F64\",\"shape\":[9223372036854775807,0,9223372036854775807],\"data_offsets\":[0,0]}}", new byte[0]);
        try (var st = SafeTensors.read(f, "ok")) {
            assertThat(st.tensor("w").numel()).isZero();
        }
    }

    @Test
    void offsetsMustLieInsideTheDataRegion() {
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)
                .hasMessage("bad.safetensors: tensor 'w' data_offsets [0, 16] exceed the data region of 8 bytes");
        assertRejects("{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9223372036854775806,9223372036854775807]}}", 1)
                .hasMessageContaining("exceed the data region of 1 bytes");
    }

    @Test
    void tensorsMustNotOverlap() {
        assertRejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16)
                .hasMessage("bad.safetensors: tensor 'b' data_offsets [8, 16] overlaps tensor 'a' data_offsets [0, 16]");
        // Two tensors sharing the same bytes (aliasing) are rejected as well.
        assertRejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)
                .hasMessageContaining("overlaps tensor");
    }

    @Test
    void dataRegionMustHaveNoGaps() {
        assertRejects("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16)
                .hasMessage("bad.safetensors: bytes [8, 12) of the data region belong to no tensor (gap before tensor 'b')");
        assertRejects("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)
                .hasMessageContaining("bytes [0, 4) of the data region belong to no tensor");
    }

    @Test
    void dataRegionMustHaveNoTrailingBytes() {
        assertRejects("{" + W + "}", 20)
                .hasMessage("bad.safetensors: bytes [16, 20) at the end of the data region belong to no tensor");
        assertRejects("{}", 1).hasMessageContaining("bytes [0, 1) at the end of the data region");
    }

    @Test
    void hugeNamesAreClippedInMessages() {
        String name = "n".repeat(100_000);
        assertRejects("{\"" + name + "\":1}", 0)
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300).contains("...(100000 chars)"));
    }

    @Test
    void deepNestingIsRejectedWithoutRecursion() {
        String deep = "[".repeat(200_000) + "]".repeat(200_000);
        assertRejects("{\"w\":{\"dtype\":\"F32\",\"shape\":" + deep + ",\"data_offsets\":[0,0]}}", 0).hasMessageContaining("shape contains an array");
        assertRejects("{\"__metadata__\":{\"k\":" + deep + "}}", 0).hasMessageContaining("value of 'k' is an array");
        assertRejects("{\"w\":{\"extra\":" + deep + "}}", 0).hasMessageContaining("unknown field 'extra'");
    }
}
