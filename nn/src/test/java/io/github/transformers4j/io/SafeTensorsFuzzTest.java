package io.github.transformers4j.io;

import static io.github.transformers4j.io.StFiles.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds the reader thousands of malformed inputs (seeded, reproducible) and checks that the only exception
 * that ever escapes is SafeTensorsException, with the source in its message; when an input is accepted, the
 * result must be self-consistent (tensors tile the data region, every byte readable).
 */
class SafeTensorsFuzzTest {
    private static final long SEED = 20251121L;
    private static final String SYNTAX = "{}[]\",:0123456789-.eE \\u";
    @TempDir Path dir;

    private final Random rng = new Random(SEED);
    private final List<String> failures = new ArrayList<>();
    private int cases, accepted, rejected;

    enum Expect { REJECT, ACCEPT, EITHER }

    private void check(byte[] bytes, Expect expect, String what) {
        cases++;
        try (SafeTensorsFile f = SafeTensors.read(bytes, "fuzz")) {
            accepted++;
            checkConsistent(f, bytes, what);
            if (expect == Expect.REJECT) failures.add(what + ": accepted, expected a rejection");
        } catch (SafeTensorsException e) {
            rejected++;
            if (!e.getMessage().startsWith("fuzz: ")) failures.add(what + ": message without source: " + e.getMessage());
            if (expect == Expect.ACCEPT) failures.add(what + ": rejected a valid file: " + e.getMessage());
        } catch (Throwable t) {
            failures.add(what + ": leaked " + t);
        }
    }

    private void checkFile(byte[] bytes, Expect expect, String what) throws Exception {
        Path p = dir.resolve("f.safetensors");
        Files.write(p, bytes);
        cases++;
        try (SafeTensorsFile f = SafeTensors.read(p)) {
            accepted++;
            checkConsistent(f, bytes, what);
            if (expect == Expect.REJECT) failures.add(what + " (file): accepted, expected a rejection");
        } catch (SafeTensorsException e) {
            rejected++;
            if (!e.getMessage().startsWith(p + ": ")) failures.add(what + " (file): message without path: " + e.getMessage());
            if (expect == Expect.ACCEPT) failures.add(what + " (file): rejected a valid file: " + e.getMessage());
        } catch (Throwable t) {
            failures.add(what + " (file): leaked " + t);
        }
    }

    /** An accepted file's tensors must tile its data region exactly, and every byte must be readable. */
    private void checkConsistent(SafeTensorsFile f, byte[] bytes, String what) {
        long dataSize = bytes.length - 8 - ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long total = 0;
        for (RawTensor t : f.tensors().values()) {
            total += t.toByteArray().length;
        }
        if (total != dataSize) failures.add(what + ": accepted tensors cover " + total + " of " + dataSize + " data bytes");
    }

    /** A small valid file with several dtypes, a scalar, an empty tensor and metadata (~400 bytes). */
    private byte[] baseFile() throws Exception {
        var tensors = new LinkedHashMap<String, RawTensor>();
        tensors.put("w", RawTensor.of("F32", new long[] {2, 3}, randomBytes(24)));
        tensors.put("b", RawTensor.of("BF16", new long[] {3}, randomBytes(6)));
        tensors.put("s", RawTensor.of("F64", new long[] {}, randomBytes(8)));
        tensors.put("e", RawTensor.of("I64", new long[] {0, 5}, new byte[0]));
        tensors.put("m", RawTensor.of("BOOL", new long[] {5}, bytes(1, 0, 1, 1, 0)));
        tensors.put("i", RawTensor.of("I32", new long[] {2}, randomBytes(8)));
        Path p = dir.resolve("base.safetensors");
        SafeTensors.write(p, tensors, Map.of("format", "pt", "step", "12"));
        return Files.readAllBytes(p);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rng.nextBytes(b);
        return b;
    }

    @Test
    void onlySafeTensorsExceptionEscapes() throws Exception {
        long start = System.nanoTime();
        byte[] base = baseFile();
        long headerEnd = 8 + ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        check(base, Expect.ACCEPT, "base");

        // 1. Truncation at every length, in memory and (every 4th) through a mapped file; any truncation is invalid.
        for (int len = 0; len < base.length; len++) {
            byte[] cut = java.util.Arrays.copyOf(base, len);
            check(cut, Expect.REJECT, "truncated to " + len);
            if (len % 4 == 0) checkFile(cut, Expect.REJECT, "truncated to " + len);
        }
        // 2. Extension by 1..64 bytes: trailing bytes belong to no tensor.
        for (int extra = 1; extra <= 64; extra++) {
            check(concat(base, randomBytes(extra)), Expect.REJECT, "extended by " + extra);
        }
        // 3. Random byte flips, mostly in the header.
        for (int i = 0; i < 2000; i++) {
            byte[] b = base.clone();
            int flips = 1 + rng.nextInt(4);
            StringBuilder what = new StringBuilder("flip");
            for (int k = 0; k < flips; k++) {
                int at = rng.nextInt(4) > 0 ? rng.nextInt((int) headerEnd) : rng.nextInt(b.length);
                int value = rng.nextBoolean() ? rng.nextInt(256) : SYNTAX.charAt(rng.nextInt(SYNTAX.length()));
                b[at] = (byte) value;
                what.append(' ').append(at).append('=').append(value);
            }
            check(b, Expect.EITHER, what.toString());
            if (i % 20 == 0) checkFile(b, Expect.EITHER, what.toString());
        }
        // 4. Header length prefix near the edges of the u64 range and of the file.
        long[] lengths = {0, 1, 7, 8, headerEnd - 9, headerEnd - 8, headerEnd - 7, base.length - 8, base.length - 7,
                SafeTensors.MAX_HEADER_BYTES, SafeTensors.MAX_HEADER_BYTES + 1, Integer.MAX_VALUE, 1L << 32,
                Long.MAX_VALUE, Long.MAX_VALUE - 7, Long.MAX_VALUE - 8, Long.MIN_VALUE, -1, -8, -9};
        for (long n : lengths) {
            byte[] b = base.clone();
            System.arraycopy(u64(n), 0, b, 0, 8);
            check(b, n == headerEnd - 8 ? Expect.ACCEPT : Expect.REJECT, "length " + Long.toUnsignedString(n));
        }
        for (int i = 0; i < 200; i++) {
            byte[] b = base.clone();
            long n = switch (i % 4) {
                case 0 -> Long.MAX_VALUE - rng.nextInt(1 << 20);
                case 1 -> -1L - rng.nextInt(1 << 20);
                case 2 -> rng.nextLong();
                default -> headerEnd - 8 + rng.nextInt(64) - 32;
            };
            System.arraycopy(u64(n), 0, b, 0, 8);
            check(b, n == headerEnd - 8 ? Expect.ACCEPT : Expect.REJECT, "length " + Long.toUnsignedString(n));
        }
        // 5. Generated JSON headers: valid layouts with one or more corruptions of every kind.
        for (int i = 0; i < 2500; i++) {
            generatedHeaderCase(i);
        }
        // 6. Random token soup after '{', and plain random bytes with a plausible length prefix.
        String[] tokens = {"{", "}", "[", "]", ",", ":", "\"w\"", "\"__metadata__\"", "\"dtype\"", "\"shape\"",
                "\"data_offsets\"", "\"F32\"", "\"U8\"", "0", "1", "4", "-1", "1e999", "9".repeat(1500), "true", "null",
                "\"\\ud800\"", "\"\\u00e9\"", "\"\\x\"", " ", "\u0000", "é", "/*c*/"};
        for (int i = 0; i < 600; i++) {
            StringBuilder h = new StringBuilder("{");
            int count = rng.nextInt(30);
            for (int k = 0; k < count; k++) h.append(tokens[rng.nextInt(tokens.length)]);
            check(file(h.toString(), randomBytes(rng.nextInt(24))), Expect.EITHER, "soup " + h);
        }
        for (int i = 0; i < 300; i++) {
            byte[] body = randomBytes(rng.nextInt(200));
            long n = body.length == 0 ? 0 : rng.nextInt(body.length + 1);
            check(concat(u64(n), body), Expect.EITHER, "random bytes " + i);
        }

        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("safetensors fuzz: %d cases (%d accepted, %d rejected) in %.2f s, seed %d%n",
                cases, accepted, rejected, seconds, SEED);
        assertThat(failures).as("failures (seed %d)", SEED).isEmpty();
        assertThat(cases).isGreaterThanOrEqualTo(5000);
        assertThat(accepted).isPositive();
        assertThat(rejected).isGreaterThan(cases / 2);
        // no wall-clock assertion: a loaded CI machine must not turn speed into a failure (the time is printed above)
    }

    // ------------------------------------------------------------------------------------- header generator

    private static final String[] DTYPES = {"F32", "F64", "BF16", "F16", "I64", "I32", "U8", "BOOL", "I8", "U16"};
    private static final int[] SIZES = {4, 8, 2, 2, 8, 4, 1, 1, 1, 2};

    private record Spec(String name, int dtype, long[] shape, long begin, long end) {}

    /** Builds a valid tiled layout, then corrupts it (or not); uncorrupted cases must be accepted. */
    private void generatedHeaderCase(int i) {
        int count = rng.nextInt(5);
        List<Spec> specs = new ArrayList<>();
        long offset = 0;
        for (int k = 0; k < count; k++) {
            int d = rng.nextInt(DTYPES.length);
            long[] shape = new long[rng.nextInt(4)];
            long n = 1;
            for (int j = 0; j < shape.length; j++) {
                shape[j] = rng.nextInt(10) == 0 ? 0 : 1 + rng.nextInt(4);
                n *= shape[j];
            }
            long bytes = n * SIZES[d];
            specs.add(new Spec("t" + k + (rng.nextInt(8) == 0 ? "é\\\"\\n😀" : ""), d, shape, offset, offset + bytes));
            offset += bytes;
        }
        long dataSize = offset;
        Map<String, String> fields = new LinkedHashMap<>(); // name -> raw JSON value
        for (Spec s : specs) {
            fields.put("\"" + s.name() + "\"", entryJson("\"" + DTYPES[s.dtype()] + "\"", shapeJson(s.shape()),
                    "[" + s.begin() + "," + s.end() + "]"));
        }
        if (rng.nextBoolean()) fields.put("\"__metadata__\"", "{\"format\":\"pt\",\"k\\u00e9\":\"v\\n\"}");

        int corruptions = i % 5 == 0 ? 0 : 1 + rng.nextInt(2);
        boolean mustReject = false;
        StringBuilder what = new StringBuilder("generated");
        for (int c = 0; c < corruptions; c++) {
            int kind = rng.nextInt(14);
            what.append(" kind").append(kind);
            List<String> keys = new ArrayList<>(fields.keySet());
            String key = keys.isEmpty() ? "\"x\"" : keys.get(rng.nextInt(keys.size()));
            switch (kind) {
                case 0 -> { // bad dtype
                    String[] bad = {"\"f32\"", "\"F128\"", "\"F4\"", "\"\"", "32", "null", "[\"F32\"]", "{}"};
                    fields.put(key, entryJson(bad[rng.nextInt(bad.length)], "[1]", "[0,4]"));
                    mustReject = true;
                }
                case 1 -> { // bad shape values
                    String[] bad = {"[-1]", "[9223372036854775808]", "[18446744073709551615]", "[1e30]", "[1.5]",
                            "[\"3\"]", "[[1]]", "[{}]", "[null]", "3", "{\"0\":1}", "[" + "9".repeat(2000) + "]",
                            "[" + "[".repeat(5000) + "]".repeat(5000) + "]"};
                    fields.put(key, entryJson("\"U8\"", bad[rng.nextInt(bad.length)], "[0,1]"));
                    mustReject = true;
                }
                case 2 -> { // shape whose byte count overflows
                    String shape = "[" + (1L << 62) + "," + (2 + rng.nextInt(1000)) + "," + Long.MAX_VALUE + "]";
                    fields.put(key, entryJson("\"F32\"", shape, "[0," + rng.nextInt(64) + "]"));
                    mustReject = true;
                }
                case 3 -> { // bad offsets values
                    String[] bad = {"[0]", "[0,1,2]", "[]", "[-1,0]", "[1,0]", "[0,-4]", "[0," + Long.MAX_VALUE + "]",
                            "[" + Long.MAX_VALUE + "," + Long.MAX_VALUE + "]", "[0,18446744073709551615]", "[0.0,4]",
                            "\"0,4\"", "null"};
                    fields.put(key, entryJson("\"F32\"", "[1]", bad[rng.nextInt(bad.length)]));
                    mustReject = true;
                }
                case 4 -> { // random offsets for a well-formed entry
                    long b = rng.nextInt((int) dataSize + 8), e = b + rng.nextInt(16);
                    fields.put(key, entryJson("\"U8\"", "[" + (e - b) + "]", "[" + b + "," + e + "]"));
                }
                case 5 -> { // shift one tensor's offsets
                    if (!specs.isEmpty()) {
                        Spec s = specs.get(rng.nextInt(specs.size()));
                        long shift = rng.nextInt(9) - 4;
                        if (shift == 0) shift = 1;
                        fields.put("\"" + s.name() + "\"", entryJson("\"" + DTYPES[s.dtype()] + "\"", shapeJson(s.shape()),
                                "[" + (s.begin() + shift) + "," + (s.end() + shift) + "]"));
                    }
                }
                case 6 -> { // data region too long or short
                    dataSize += rng.nextBoolean() ? 1 + rng.nextInt(8) : -1 - rng.nextInt(8);
                    if (dataSize < 0) dataSize = 0;
                }
                case 7 -> { // unknown or missing field
                    fields.put(key, rng.nextBoolean()
                            ? "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0],\"extra\":" + junk(3) + "}"
                            : "{\"dtype\":\"U8\",\"shape\":[0]}");
                    mustReject = true;
                }
                case 8 -> { // entry or metadata replaced by junk
                    fields.put(rng.nextBoolean() ? key : "\"__metadata__\"", junk(4));
                }
                case 9 -> { // metadata with non-string values
                    fields.put("\"__metadata__\"", "{\"a\":" + junk(2) + "}");
                }
                case 10 -> { // duplicate a key verbatim (done at render time)
                    fields.put(key + "\u0001dup", fields.getOrDefault(key, "{}"));
                    mustReject = true;
                }
                case 11 -> { // a zero-size tensor inside another tensor
                    fields.put("\"z\"", entryJson("\"U8\"", "[0]", "[" + rng.nextInt((int) dataSize + 1) + "," + "0]"));
                }
                case 12 -> { // wrong size for the shape
                    fields.put(key, entryJson("\"F32\"", "[2,2]", "[0," + (12 + rng.nextInt(3)) + "]"));
                }
                default -> { // corrupt the JSON text itself after rendering
                    what.append("-text");
                }
            }
        }
        StringBuilder json = new StringBuilder("{");
        for (var e : fields.entrySet()) {
            if (json.length() > 1) json.append(',');
            json.append(e.getKey().replace("\u0001dup", "")).append(':').append(e.getValue());
        }
        json.append('}');
        String header = json.toString();
        if (what.toString().contains("-text") && !header.isEmpty()) {
            int at = rng.nextInt(header.length());
            header = rng.nextBoolean() ? header.substring(0, at) : header.substring(0, at) + junk(1) + header.substring(at);
        }
        header = header + " ".repeat(rng.nextInt(8));
        byte[] bytes = file(header, randomBytes((int) dataSize));
        check(bytes, corruptions == 0 ? Expect.ACCEPT : mustReject ? Expect.REJECT : Expect.EITHER, what + " " + header);
    }

    private static String entryJson(String dtype, String shape, String offsets) {
        return "{\"dtype\":" + dtype + ",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    private static String shapeJson(long[] shape) {
        StringBuilder s = new StringBuilder("[");
        for (int j = 0; j < shape.length; j++) s.append(j > 0 ? "," : "").append(shape[j]);
        return s.append(']').toString();
    }

    /** Random JSON-ish junk, possibly invalid, possibly deeply nested. */
    private String junk(int depth) {
        return switch (rng.nextInt(depth <= 0 ? 8 : 11)) {
            case 0 -> "null";
            case 1 -> String.valueOf(rng.nextLong());
            case 2 -> "-" + "9".repeat(1 + rng.nextInt(40));
            case 3 -> "1e" + rng.nextInt(400);
            case 4 -> "\"" + "x".repeat(rng.nextInt(20)) + "\\u" + Integer.toHexString(rng.nextInt(0x10000)) + "\"";
            case 5 -> "\"unterminated";
            case 6 -> "[".repeat(1 + rng.nextInt(3000));
            case 7 -> "true";
            case 8 -> "[" + junk(depth - 1) + "," + junk(depth - 1) + "]";
            case 9 -> "{\"k\":" + junk(depth - 1) + "}";
            default -> "{\"dtype\":" + junk(depth - 1) + "}";
        };
    }
}
