package io.github.transformers4j.data.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.data.Dataset;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * An in-memory list of {@link TextPair}s read from JSONL (one JSON object per line) or CSV (a header row, RFC 4180
 * quoting), with configurable field names. The defaults {@code document} / {@code summary} / {@code id} are the
 * layout of XSum and of {@code t4j data debian-descriptions}; CNN/DailyMail's would be {@code article} /
 * {@code highlights}. A record without an id field gets its line number as id.
 *
 * <p>A data-set folder holds {@code train.jsonl}, {@code validation.jsonl} and {@code test.jsonl} (or {@code .csv});
 * {@link #open(Path, String, Fields)} accepts the split names {@code train}, {@code validation} (alias {@code val})
 * and {@code test}.
 */
public final class TextPairDataset implements Dataset<TextPair> {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Field (column) names of the document, the summary and the id. */
    public record Fields(String document, String summary, String id) {
        public static final Fields DEFAULT = new Fields("document", "summary", "id");
    }

    private final List<TextPair> pairs;
    private final String name;

    public TextPairDataset(String name, List<TextPair> pairs) {
        this.name = name;
        this.pairs = List.copyOf(pairs);
    }

    @Override
    public int size() {
        return pairs.size();
    }

    @Override
    public TextPair get(int index) {
        Dataset.checkIndex(index, pairs.size(), this);
        return pairs.get(index);
    }

    public List<TextPair> pairs() {
        return pairs;
    }

    @Override
    public String toString() {
        return name + " (" + pairs.size() + " pairs)";
    }

    /** The file of a split in a data-set folder: {@code DIR/<split>.jsonl} or {@code DIR/<split>.csv}. */
    public static Path splitFile(Path dir, String split) {
        String s = switch (split.toLowerCase(Locale.ROOT)) {
            case "train" -> "train";
            case "val", "valid", "validation" -> "validation";
            case "test" -> "test";
            default -> throw new IllegalArgumentException("split must be train, validation (val) or test, got '" + split + "'");
        };
        for (String ext : new String[] {".jsonl", ".csv"}) {
            Path p = dir.resolve(s + ext);
            if (Files.isRegularFile(p)) return p;
        }
        throw new IllegalArgumentException("data set folder " + dir + " has no " + s + ".jsonl or " + s + ".csv");
    }

    public static TextPairDataset open(Path dir, String split, Fields fields) {
        return read(splitFile(dir, split), fields);
    }

    /** Reads a .jsonl or .csv file (by extension). */
    public static TextPairDataset read(Path file, Fields fields) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            List<TextPair> pairs = n.endsWith(".csv") ? readCsv(r, fields, file.toString()) : readJsonl(r, fields, file.toString());
            return new TextPairDataset(file.toString(), pairs);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static List<TextPair> readJsonl(BufferedReader r, Fields f, String source) throws IOException {
        List<TextPair> out = new ArrayList<>();
        String line;
        int lineNo = 0;
        while ((line = r.readLine()) != null) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(source + ":" + lineNo + ": not a JSON object: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(source + ":" + lineNo + ": expected a JSON object");
            out.add(new TextPair(node.hasNonNull(f.id()) ? node.get(f.id()).asText() : String.valueOf(lineNo),
                    field(node, f.document(), source, lineNo), field(node, f.summary(), source, lineNo)));
        }
        return out;
    }

    private static String field(JsonNode node, String name, String source, int lineNo) {
        JsonNode v = node.get(name);
        if (v == null || v.isNull()) {
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            throw new IllegalArgumentException(source + ":" + lineNo + ": field '" + name + "' is missing; fields: " + names);
        }
        return v.asText();
    }

    public static List<TextPair> readCsv(Reader r, Fields f, String source) throws IOException {
        List<List<String>> rows = Csv.parse(r, source);
        if (rows.isEmpty()) return List.of();
        List<String> header = rows.getFirst();
        int d = column(header, f.document(), source), s = column(header, f.summary(), source), id = header.indexOf(f.id());
        List<TextPair> out = new ArrayList<>();
        for (int i = 1; i < rows.size(); i++) {
            List<String> row = rows.get(i);
            if (row.size() == 1 && row.getFirst().isEmpty()) continue; // blank line
            if (row.size() != header.size())
                throw new IllegalArgumentException(source + ": record " + i + " has " + row.size() + " fields, the header " + header.size());
            out.add(new TextPair(id >= 0 ? row.get(id) : String.valueOf(i), row.get(d), row.get(s)));
        }
        return out;
    }

    private static int column(List<String> header, String name, String source) {
        int i = header.indexOf(name);
        if (i < 0) throw new IllegalArgumentException(source + ": no column '" + name + "' in header " + header);
        return i;
    }

    /** Writes pairs as JSONL {@code {"id":..,"document":..,"summary":..}} (UTF-8, one object per line). */
    public static void writeJsonl(Path file, Collection<TextPair> pairs) {
        try {
            if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
            try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                for (TextPair p : pairs) {
                    ObjectNode o = JSON.createObjectNode();
                    o.put("id", p.id());
                    o.put("document", p.document());
                    o.put("summary", p.summary());
                    w.write(JSON.writeValueAsString(o));
                    w.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
