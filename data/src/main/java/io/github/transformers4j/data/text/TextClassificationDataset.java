package io.github.transformers4j.data.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Labelled texts for sequence classification, one JSON object per line as Hugging Face datasets write them:
 * {@code {"text": "...", "label": "positive"}}, optionally with {@code "text_pair"} (sentence-pair tasks). Labels may
 * be strings or integers. A folder holds {@code train.jsonl} and optionally {@code validation.jsonl} (or
 * {@code val.jsonl}) and {@code test.jsonl}. Every bad line is reported with its file and line number.
 */
public record TextClassificationDataset(Path file, List<Example> examples) {
    /** One text (and its optional pair) with its label as written in the file. */
    public record Example(String text, String textPair, String label) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The split's file in {@code dir} ("train", "validation", "test"), or null if the folder has none. */
    public static Path splitFile(Path dir, String split) {
        for (String name : split.equals("validation") ? List.of("validation.jsonl", "val.jsonl") : List.of(split + ".jsonl")) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    public static TextClassificationDataset read(Path file) {
        List<Example> out = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = r.readLine()) != null) {
                n++;
                if (line.isBlank()) continue;
                try {
                    JsonNode o = JSON.readTree(line);
                    JsonNode text = o == null ? null : o.get("text"), label = o == null ? null : o.get("label");
                    if (text == null || !text.isTextual()) errors.add("line " + n + ": no \"text\" string");
                    else if (label == null || !(label.isTextual() || label.isIntegralNumber())) errors.add("line " + n + ": no \"label\" (a string or an integer)");
                    else out.add(new Example(text.asText(), o.hasNonNull("text_pair") ? o.get("text_pair").asText() : null, label.asText()));
                } catch (IOException e) {
                    errors.add("line " + n + ": not valid JSON");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": " + e.getMessage(), e);
        }
        if (!errors.isEmpty())
            throw new IllegalArgumentException(file + ": " + errors.size() + " bad line(s): " + String.join("; ", errors.subList(0, Math.min(5, errors.size())))
                    + (errors.size() > 5 ? "; ..." : ""));
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return new TextClassificationDataset(file, List.copyOf(out));
    }

    /** The distinct labels in sorted order (integers numerically). */
    public List<String> labels() {
        boolean numeric = examples.stream().allMatch(e -> e.label().matches("-?\\d+"));
        TreeSet<String> s = new TreeSet<>(numeric ? java.util.Comparator.comparingLong(Long::parseLong) : java.util.Comparator.naturalOrder());
        examples.forEach(e -> s.add(e.label()));
        return List.copyOf(s);
    }
}
