package io.github.transformers4j.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.core.StreamReadConstraints;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian unsigned header length N, N bytes of UTF-8 JSON
 * {@code {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}},
 * then the data region; offsets are relative to the data region's start.
 *
 * <h2>Reading</h2>
 * {@link #read(Path)} memory-maps the file (no 2 GiB limit) and validates everything before handing out a
 * single byte: the header length fits the file and the 100 MB limit, the header is valid UTF-8, starts with
 * {@code '{'} and is exactly one JSON object (trailing whitespace allowed, as the writer pads with spaces);
 * no key appears twice (top level or inside an entry); {@code __metadata__}, if present, is an object of
 * strings; every entry is an object with exactly the fields {@code dtype} (a known whole-byte dtype),
 * {@code shape} (non-negative 64-bit integers) and {@code data_offsets} (two non-negative 64-bit integers,
 * begin &lt;= end &lt;= data size), {@code end - begin == product(shape) * itemSize} computed without
 * overflow, and the entries tile the data region exactly: no overlap, no gap, no trailing bytes. This is the
 * reference implementation's rule set, made stricter in two places: unknown entry fields and nested
 * duplicate keys are rejected rather than ignored. Every violation throws {@link SafeTensorsException}.
 * Dtype names are case-sensitive. The file must not be truncated by another process while it is mapped
 * (the JVM then fails the access with an InternalError); {@link #write} never does that to its own target.
 *
 * <p>Dtypes: BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64
 * are read and written as raw bytes. The reference's sub-byte dtypes F4, F6_E2M3 and F6_E3M2 are rejected
 * with a clear message. {@link #load(Path)} additionally requires a dtype the {@code Tensor} engine has.
 *
 * <h2>Tensors</h2>
 * {@link #load(Path)} and {@link #save(Path, Map, Map)} convert to and from {@link Tensor} (CPU tensors, copied;
 * a tensor's dtype name is the safetensors dtype name). Files with dtypes the engine lacks (I8, U16, F8_*, ...)
 * load only through {@link #read(Path)}. Tensors sharing storage (tied weights) are written as separate copies.
 *
 * <h2>Writing</h2>
 * {@link #write(Path, Map, Map)} lays the file out exactly as the reference implementation does, so the bytes
 * match Python's {@code safetensors.torch.save_file} for the same tensors (and for metadata of at most one key;
 * Python writes several keys in hash order): tensors sorted by dtype alignment
 * (descending) then by name (UTF-8 byte order), whatever the iteration order of the given map; compact JSON;
 * the header padded with spaces to a multiple of 8 bytes so every tensor starts aligned to its item size.
 * {@code __metadata__} is written first, with keys sorted, and omitted when the map is null or empty. The
 * write is atomic: the bytes go to a temporary file in the same directory, are forced to disk, and the
 * temporary file is renamed over the target ({@code ATOMIC_MOVE}); on any failure the temporary file is
 * deleted and an existing target is left untouched.
 */
public final class SafeTensors {
    /** Largest header accepted, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";
    private static final ValueLayout.OfLong U64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long WRITE_CHUNK = 8 << 20;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) MAX_HEADER_BYTES)
                    .maxNameLength((int) MAX_HEADER_BYTES)
                    .build())
            // Write characters outside the BMP as 4-byte UTF-8, as serde_json does, not as escaped surrogates,
            // and other control characters as lowercase hex escapes, as serde_json does.
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE)
            .build();

    private SafeTensors() {}

    // ---------------------------------------------------------------------------------------------- reading

    /**
     * Maps and validates a safetensors file. Close the result to unmap it; its tensors' data is invalid after.
     *
     * @throws SafeTensorsException if the file is malformed (the message names the file and the problem)
     * @throws IOException if the file cannot be opened or mapped
     */
    public static SafeTensorsFile read(Path path) throws IOException {
        String source = path.toString();
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(source, "file has " + size + " bytes, fewer than the 8-byte header length");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return parse(all, source, arena);
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    /**
     * Validates a whole safetensors file held in memory. The returned tensors are read-only slices of
     * {@code bytes} (no copy); {@code source} names the buffer in error messages.
     */
    public static SafeTensorsFile read(MemorySegment bytes, String source) throws SafeTensorsException {
        return parse(bytes.asReadOnly(), source, null);
    }

    /** {@link #read(MemorySegment, String)} over a byte array (not copied). */
    public static SafeTensorsFile read(byte[] bytes, String source) throws SafeTensorsException {
        return read(MemorySegment.ofArray(bytes), source);
    }

    /** One header entry, after syntax checks, before layout checks. */
    private record Entry(String name, StDType dtype, long[] shape, long begin, long end) {
        String offsets() {
            return "data_offsets [" + begin + ", " + end + "]";
        }
    }

    private record Header(List<Entry> entries, Map<String, String> metadata) {}

    private static SafeTensorsFile parse(MemorySegment all, String source, Arena arena) throws SafeTensorsException {
        long size = all.byteSize();
        if (size < 8) {
            throw new SafeTensorsException(source, "file has " + size + " bytes, fewer than the 8-byte header length");
        }
        long n = all.get(U64_LE, 0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(source, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > size - 8) {
            throw new SafeTensorsException(source, "header length " + n + " exceeds the " + (size - 8)
                    + " bytes that follow the length prefix");
        }
        String json = decodeUtf8(all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), source);
        if (json.isEmpty() || json.charAt(0) != '{') {
            throw new SafeTensorsException(source, "header does not start with '{'");
        }
        Header header = parseHeader(json, source);

        long dataSize = size - 8 - n;
        List<Entry> byOffset = checkLayout(header.entries(), dataSize, source);
        MemorySegment data = all.asSlice(8 + n, dataSize);
        LinkedHashMap<String, RawTensor> tensors = LinkedHashMap.newLinkedHashMap(byOffset.size());
        for (Entry e : byOffset) {
            tensors.put(e.name(), new RawTensor(e.dtype().name(), e.shape(), data.asSlice(e.begin(), e.end() - e.begin())));
        }
        return new SafeTensorsFile(source, tensors, header.metadata(), arena);
    }

    private static String decodeUtf8(byte[] bytes, String source) throws SafeTensorsException {
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(source, "header is not valid UTF-8", e);
        }
    }

    private static Header parseHeader(String json, String source) throws SafeTensorsException {
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken(); // '{', checked by the caller
            Set<String> seen = new HashSet<>();
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                if (!seen.add(key)) {
                    throw new SafeTensorsException(source, "duplicate key " + quote(key) + " in header");
                }
                p.nextToken();
                if (key.equals(METADATA_KEY)) {
                    metadata = parseMetadata(p, source);
                } else {
                    entries.add(parseEntry(p, key, source));
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new SafeTensorsException(source, "header JSON object is not closed");
            }
            if (p.nextToken() != null) {
                throw new SafeTensorsException(source, "unexpected content after the header's JSON object");
            }
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " (at character " + at.getCharOffset() + ")";
            throw new SafeTensorsException(source, "header is not valid JSON: " + clip(e.getOriginalMessage(), 200) + where, e);
        } catch (SafeTensorsException e) {
            throw e;
        } catch (IOException e) { // cannot happen when parsing a String; kept honest rather than swallowed
            throw new UncheckedIOException(e);
        }
        return new Header(entries, metadata);
    }

    private static Map<String, String> parseMetadata(JsonParser p, String source) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafeTensorsException(source, "__metadata__ is " + describe(p.currentToken()) + ", expected an object of strings");
        }
        LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken value = p.nextToken();
            if (value != JsonToken.VALUE_STRING) {
                throw new SafeTensorsException(source, "__metadata__ value of " + quote(key) + " is " + describe(value) + ", expected a string");
            }
            if (metadata.putIfAbsent(key, p.getText()) != null) {
                throw new SafeTensorsException(source, "duplicate key " + quote(key) + " in __metadata__");
            }
        }
        return metadata;
    }

    private static Entry parseEntry(JsonParser p, String name, String source) throws IOException {
        String what = "tensor " + quote(name);
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafeTensorsException(source, what + " is " + describe(p.currentToken()) + ", expected an object");
        }
        String dtype = null;
        long[] shape = null, offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            boolean duplicate = switch (field) {
                case "dtype" -> {
                    if (value != JsonToken.VALUE_STRING) {
                        throw new SafeTensorsException(source, what + ": dtype is " + describe(value) + ", expected a string");
                    }
                    boolean dup = dtype != null;
                    dtype = p.getText();
                    yield dup;
                }
                case "shape" -> {
                    boolean dup = shape != null;
                    shape = readIndices(p, what + ": shape", source);
                    yield dup;
                }
                case "data_offsets" -> {
                    boolean dup = offsets != null;
                    offsets = readIndices(p, what + ": data_offsets", source);
                    yield dup;
                }
                default -> throw new SafeTensorsException(source, what + ": unknown field " + quote(field)
                        + " (expected dtype, shape, data_offsets)");
            };
            if (duplicate) {
                throw new SafeTensorsException(source, what + ": duplicate field " + quote(field));
            }
        }
        if (dtype == null || shape == null || offsets == null) {
            String missing = dtype == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw new SafeTensorsException(source, what + ": missing field '" + missing + "'");
        }
        StDType type = StDType.byName(dtype);
        if (type == null) {
            throw new SafeTensorsException(source, StDType.SUB_BYTE.contains(dtype)
                    ? what + ": sub-byte dtype " + dtype + " is not supported"
                    : what + ": unknown dtype " + quote(dtype) + " (known: " + StDType.names() + ")");
        }
        if (offsets.length != 2) {
            throw new SafeTensorsException(source, what + ": data_offsets has " + offsets.length + " values, expected 2 [begin, end]");
        }
        return new Entry(name, type, shape, offsets[0], offsets[1]);
    }

    /** Reads a JSON array of non-negative 64-bit integers; the parser is on its START_ARRAY. */
    private static long[] readIndices(JsonParser p, String what, String source) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new SafeTensorsException(source, what + " is " + describe(p.currentToken()) + ", expected an array of integers");
        }
        long[] values = new long[4];
        int count = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                throw new SafeTensorsException(source, what + " value " + clip(p.getText(), 40) + " is not an integer");
            }
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new SafeTensorsException(source, what + " contains " + describe(t) + ", expected non-negative integers");
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new SafeTensorsException(source, what + " value " + clip(p.getText(), 40) + " is out of the 64-bit range");
            }
            long v = p.getLongValue();
            if (v < 0) {
                throw new SafeTensorsException(source, what + " value " + v + " is negative");
            }
            if (count == values.length) values = Arrays.copyOf(values, 2 * count);
            values[count++] = v;
        }
        return Arrays.copyOf(values, count);
    }

    /**
     * Checks each entry's byte count and bounds, then that the entries, sorted by (begin, end), tile
     * [0, dataSize) exactly. Returns them in that order (stable: equal offsets keep header order).
     */
    private static List<Entry> checkLayout(List<Entry> entries, long dataSize, String source) throws SafeTensorsException {
        for (Entry e : entries) {
            String what = "tensor " + quote(e.name());
            String layout = "shape " + Arrays.toString(e.shape()) + " x " + e.dtype();
            long bytes = RawTensor.byteCount(e.shape(), e.dtype().itemSize);
            if (bytes < 0) {
                throw new SafeTensorsException(source, what + ": " + layout + " overflows a 64-bit byte count");
            }
            if (e.begin() > e.end()) {
                throw new SafeTensorsException(source, what + " " + e.offsets() + " have begin > end");
            }
            if (e.end() - e.begin() != bytes) {
                throw new SafeTensorsException(source, what + " " + e.offsets() + " do not match " + layout + " = " + bytes + " bytes");
            }
            if (e.end() > dataSize) {
                throw new SafeTensorsException(source, what + " " + e.offsets() + " exceed the data region of " + dataSize + " bytes");
            }
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        Entry covering = null; // the last non-empty entry, which ends at cursor
        for (Entry e : sorted) {
            if (e.begin() < cursor) {
                throw new SafeTensorsException(source, "tensor " + quote(e.name()) + " " + e.offsets()
                        + " overlaps tensor " + quote(covering.name()) + " " + covering.offsets());
            }
            if (e.begin() > cursor) {
                throw new SafeTensorsException(source, "bytes [" + cursor + ", " + e.begin()
                        + ") of the data region belong to no tensor (gap before tensor " + quote(e.name()) + ")");
            }
            if (e.end() > e.begin()) covering = e;
            cursor = e.end();
        }
        if (cursor != dataSize) {
            throw new SafeTensorsException(source, "bytes [" + cursor + ", " + dataSize
                    + ") at the end of the data region belong to no tensor");
        }
        return sorted;
    }

    private static String describe(JsonToken t) {
        if (t == null) return "missing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    /** 'name' for messages, clipped so a 50 MB name does not become a 50 MB message. */
    private static String quote(String s) {
        return "'" + clip(s, 120) + "'";
    }

    private static String clip(String s, int max) {
        if (s == null) return "";
        return s.length() <= max ? s : s.substring(0, max) + "...(" + s.length() + " chars)";
    }

    // ---------------------------------------------------------------------------------------------- tensors

    /**
     * Reads a file into CPU tensors, in file order. Like every tensor allocation, the result belongs to the
     * innermost open {@code Memory.scope()}, if any.
     *
     * @throws SafeTensorsException if the file is malformed, holds a dtype {@link DType} lacks, or a tensor
     *         that {@code Tensor} cannot hold (a dimension above {@code Integer.MAX_VALUE}, more than 2 GiB)
     */
    public static LinkedHashMap<String, Tensor> load(Path path) throws IOException {
        return loadWithMetadata(path).tensors();
    }

    /** A file's tensors (file order) and its {@code __metadata__} (empty when it has none). */
    public record Loaded(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {}

    /** As {@link #load}, with the file's metadata, which {@link #save} writes (Hugging Face's {@code format: pt}, ...). */
    public static Loaded loadWithMetadata(Path path) throws IOException {
        try (SafeTensorsFile file = read(path)) {
            LinkedHashMap<String, Tensor> out = LinkedHashMap.newLinkedHashMap(file.tensors().size());
            for (Map.Entry<String, RawTensor> e : file.tensors().entrySet()) {
                out.put(e.getKey(), toTensor(file.source(), e.getKey(), e.getValue()));
            }
            return new Loaded(out, Map.copyOf(file.metadata()));
        }
    }

    /** Writes tensors (any device, any layout; copied to contiguous host bytes) atomically; see {@link #write}. */
    public static void save(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        LinkedHashMap<String, RawTensor> raw = LinkedHashMap.newLinkedHashMap(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            raw.put(e.getKey(), toRaw(e.getValue()));
        }
        write(path, raw, metadata);
    }

    /** The tensor's contiguous little-endian bytes with its dtype name and shape. */
    public static RawTensor toRaw(Tensor t) {
        int[] shape = t.shape();
        long[] longShape = new long[shape.length];
        for (int i = 0; i < shape.length; i++) longShape[i] = shape[i];
        return RawTensor.of(t.dtype().name(), longShape, t.toBytes());
    }

    /** A CPU tensor copied from {@code raw}; {@code source} and {@code name} are for error messages. */
    public static Tensor toTensor(String source, String name, RawTensor raw) throws SafeTensorsException {
        String what = "tensor " + quote(name);
        DType dtype;
        try {
            dtype = DType.valueOf(raw.dtype());
        } catch (IllegalArgumentException notEngineType) {
            throw new SafeTensorsException(source, what + " has dtype " + raw.dtype() + ", which Tensor does not support (supported: "
                    + Arrays.toString(DType.values()) + "); SafeTensors.read gives its raw bytes");
        }
        long[] shape = raw.shape();
        int[] intShape = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] > Integer.MAX_VALUE) {
                throw new SafeTensorsException(source, what + " shape " + Arrays.toString(shape) + " has a dimension above Integer.MAX_VALUE");
            }
            intShape[i] = (int) shape[i];
        }
        if (raw.data().byteSize() > Integer.MAX_VALUE) {
            throw new SafeTensorsException(source, what + " has " + raw.data().byteSize() + " bytes; Tensor.fromBytes takes at most 2 GiB");
        }
        return Tensor.fromBytes(dtype, intShape, raw.byteBuffer());
    }

    // ---------------------------------------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} and {@code metadata} (may be null) to {@code path} atomically, laid out as the
     * reference implementation lays it out (see the class comment: the map's iteration order is not kept).
     *
     * @throws IllegalArgumentException if a tensor is named {@code __metadata__} or a name or metadata string
     *         is not valid Unicode
     * @throws IOException if writing, forcing or renaming fails; the target is then unchanged
     */
    public static void write(Path path, Map<String, RawTensor> tensors, Map<String, String> metadata) throws IOException {
        List<Map.Entry<String, RawTensor>> order = new ArrayList<>(tensors.entrySet());
        for (Map.Entry<String, RawTensor> e : order) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(path + ": null tensor name or value");
            }
            if (e.getKey().equals(METADATA_KEY)) {
                throw new IllegalArgumentException(path + ": a tensor cannot be named " + METADATA_KEY);
            }
            requireUnicode(path, "tensor name", e.getKey());
        }
        Comparator<String> utf8Order = (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
        order.sort(Comparator.<Map.Entry<String, RawTensor>>comparingInt(e -> -StDType.byName(e.getValue().dtype()).ordinal())
                .thenComparing(Map.Entry::getKey, utf8Order));
        List<Map.Entry<String, String>> meta = new ArrayList<>(metadata == null ? Map.<String, String>of().entrySet() : metadata.entrySet());
        for (Map.Entry<String, String> e : meta) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(path + ": null metadata key or value");
            }
            requireUnicode(path, "metadata key", e.getKey());
            requireUnicode(path, "metadata value", e.getValue());
        }
        meta.sort(Map.Entry.comparingByKey(utf8Order));

        byte[] header = headerBytes(order, meta);
        long total = 8L + header.length;
        for (Map.Entry<String, RawTensor> e : order) total += e.getValue().data().byteSize();

        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Path tmp = createTemp(dir, target.getFileName().toString());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, prefix);
                writeFully(ch, ByteBuffer.wrap(header));
                for (Map.Entry<String, RawTensor> e : order) {
                    writeSegment(ch, e.getValue().data());
                }
                if (ch.position() != total) {
                    throw new IOException(path + ": wrote " + ch.position() + " bytes, expected " + total);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                t.addSuppressed(cleanup);
            }
            throw t;
        }
        forceDirectory(dir);
    }

    /** Creates an empty, uniquely named hidden temporary file next to the target (default permissions). */
    private static Path createTemp(Path dir, String base) throws IOException {
        while (true) {
            Path tmp = dir.resolve("." + base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.createFile(tmp);
                return tmp;
            } catch (FileAlreadyExistsException taken) {
                // another writer drew the same name; draw again
            }
        }
    }

    /** The padded header JSON, compact, as serde_json writes it. */
    private static byte[] headerBytes(List<Map.Entry<String, RawTensor>> order, List<Map.Entry<String, String>> meta) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            if (!meta.isEmpty()) {
                g.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> e : meta) g.writeStringField(e.getKey(), e.getValue());
                g.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, RawTensor> e : order) {
                RawTensor t = e.getValue();
                long end = offset + t.data().byteSize();
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", t.dtype());
                g.writeArrayFieldStart("shape");
                for (long d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        }
        int pad = (8 - out.size() % 8) % 8;
        for (int i = 0; i < pad; i++) out.write(' ');
        return out.toByteArray();
    }

    private static void requireUnicode(Path path, String what, String s) {
        if (!StandardCharsets.UTF_8.newEncoder().canEncode(s)) {
            throw new IllegalArgumentException(path + ": " + what + " " + quote(s) + " is not valid Unicode (unpaired surrogate)");
        }
    }

    /**
     * Writes in chunks: a ByteBuffer holds at most 2 GiB, and a heap segment over a non-byte array (float[]...)
     * has no ByteBuffer view at all, so such data is copied through a staging buffer.
     */
    private static void writeSegment(FileChannel ch, MemorySegment data) throws IOException {
        ByteBuffer staging = null;
        for (long off = 0; off < data.byteSize(); off += WRITE_CHUNK) {
            MemorySegment chunk = data.asSlice(off, Math.min(WRITE_CHUNK, data.byteSize() - off));
            ByteBuffer view;
            try {
                view = chunk.asByteBuffer();
            } catch (UnsupportedOperationException noView) {
                if (staging == null) staging = ByteBuffer.allocate((int) Math.min(WRITE_CHUNK, data.byteSize()));
                MemorySegment.copy(chunk, 0, MemorySegment.ofBuffer(staging.clear()), 0, chunk.byteSize());
                view = staging.limit((int) chunk.byteSize());
            }
            writeFully(ch, view);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    /** Makes the rename durable. Best effort: some platforms cannot open or force a directory. */
    private static void forceDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the data itself is already forced; only the rename's durability is at stake
        }
    }
}
