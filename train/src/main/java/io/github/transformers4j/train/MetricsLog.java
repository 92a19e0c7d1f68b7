package io.github.transformers4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.train.tensorboard.EventFileWriter;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run's metric files, appended row by row and flushed after each row:
 * <ul>
 *   <li>{@code metrics.csv}: {@link MetricsRow#COLUMNS}, only values that a rerun with the same seed reproduces
 *       bit for bit (so two such runs give byte-identical files);</li>
 *   <li>{@code metrics.jsonl}: one JSON object per row with the same keys plus wall-clock figures
 *       ({@code time}, {@code elapsed_s}, {@code epoch_time_s}, {@code images_per_s}, ...);</li>
 *   <li>{@code tensorboard/events.out.tfevents.*}: every value of both as a TensorBoard scalar at its global step
 *       ({@code train/loss}, {@code train/lr}, {@code epoch/val_acc}, {@code epoch/images_per_s}, {@code test/acc}, ...):
 *       {@code tensorboard --logdir RUN}. Each open of the log starts a new event file; a resumed one begins with a
 *       SessionLog START at the first step after the kept rows, so TensorBoard drops the interrupted epoch's points.</li>
 * </ul>
 * Resuming at step S keeps the training rows up to it ({@code step <= S}, kinds step, eval and epoch) and drops the
 * rest (rows written after the checkpoint the run resumes from, a half-written last line, an old test row), so a
 * resumed run ends with the same metrics.csv as an uninterrupted one.
 */
public final class MetricsLog implements AutoCloseable {
    public static final String CSV = "metrics.csv", JSONL = "metrics.jsonl", TENSORBOARD = "tensorboard";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter csv, jsonl;
    private final EventFileWriter events;

    private MetricsLog(BufferedWriter csv, BufferedWriter jsonl, EventFileWriter events) {
        this.csv = csv;
        this.jsonl = jsonl;
        this.events = events;
    }

    /** Starts fresh files in {@code dir} (replacing old ones). */
    public static MetricsLog create(Path dir) {
        return create(dir, true);
    }

    /** As {@link #create(Path)}; {@code tensorboard}: whether event files are written too. */
    public static MetricsLog create(Path dir, boolean tensorboard) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(CSV), String.join(",", MetricsRow.COLUMNS) + "\n");
            Files.writeString(dir.resolve(JSONL), "");
            return appendTo(dir, -1, true, tensorboard);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot create files in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Keeps the training rows of an existing log up to step {@code lastStep} and appends after them. */
    public static MetricsLog resume(Path dir, long lastStep) {
        return resume(dir, lastStep, true);
    }

    /** As {@link #resume(Path, long)}; {@code tensorboard}: whether event files are written too. */
    public static MetricsLog resume(Path dir, long resumeStep, boolean tensorboard) {
        Path csvPath = dir.resolve(CSV), jsonlPath = dir.resolve(JSONL);
        if (!Files.isRegularFile(csvPath)) return create(dir, tensorboard);
        try {
            List<String> keptCsv = new ArrayList<>();
            keptCsv.add(String.join(",", MetricsRow.COLUMNS));
            long lastStep = 0;
            for (MetricsRow r : read(csvPath)) {
                if (!keep(r.kind(), r.step(), resumeStep)) continue;
                keptCsv.add(csvLine(r));
                lastStep = Math.max(lastStep, r.step());
            }
            AtomicFiles.writeString(csvPath, String.join("\n", keptCsv) + "\n");
            StringBuilder keptJson = new StringBuilder();
            if (Files.isRegularFile(jsonlPath)) {
                for (String line : Files.readAllLines(jsonlPath, StandardCharsets.UTF_8)) {
                    JsonNode n;
                    try {
                        n = JSON.readTree(line);
                    } catch (IOException halfWritten) {
                        continue;
                    }
                    if (n != null && n.has("kind") && keep(n.get("kind").asText(), n.path("step").asLong(), resumeStep))
                        keptJson.append(line).append('\n');
                }
            }
            AtomicFiles.writeString(jsonlPath, keptJson.toString());
            return appendTo(dir, lastStep + 1, true, tensorboard);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot resume " + csvPath + ": " + e.getMessage(), e);
        }
    }

    private static boolean keep(String kind, long step, long resumeStep) {
        return (kind.equals(MetricsRow.STEP) || kind.equals(MetricsRow.EVAL) || kind.equals(MetricsRow.EPOCH)) && step <= resumeStep;
    }

    /** Appends to the existing files of {@code dir} (creating them if missing). */
    public static MetricsLog appendTo(Path dir) {
        return appendTo(dir, -1, false, true);
    }

    /**
     * As {@link #appendTo(Path)}; {@code resumedAt} >= 0: the event file starts with a SessionLog START there;
     * {@code fitStart}: the run's config.json goes to TensorBoard as text.
     */
    private static MetricsLog appendTo(Path dir, long resumedAt, boolean fitStart, boolean tensorboard) {
        try {
            if (!Files.isRegularFile(dir.resolve(CSV))) {
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(CSV), String.join(",", MetricsRow.COLUMNS) + "\n");
            }
            if (!tensorboard) return new MetricsLog(open(dir.resolve(CSV)), open(dir.resolve(JSONL)), null);
            EventFileWriter events = EventFileWriter.create(dir.resolve(TENSORBOARD));
            if (resumedAt >= 0) events.sessionStart(resumedAt);
            Path config = dir.resolve("config.json"); // the run's options, data and model, for TensorBoard's Text tab
            if (fitStart && Files.isRegularFile(config)) {
                String json = Files.readString(config);
                events.text("run/config", Math.max(0, resumedAt), "```json\n" + json + "\n```");
                Map<String, Object> hp = hparams(json);
                if (resumedAt < 0 && !hp.isEmpty()) events.hparams(hp);
            }
            return new MetricsLog(open(dir.resolve(CSV)), open(dir.resolve(JSONL)), events);
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: cannot open files in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static BufferedWriter open(Path p) throws IOException {
        return Files.newBufferedWriter(p, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** Appends {@code row} to both files; {@code extra} (wall-clock figures, may be empty) goes to the JSONL only. */
    public synchronized void log(MetricsRow row, Map<String, Object> extra) {
        try {
            csv.write(csvLine(row));
            csv.write('\n');
            csv.flush();
            ObjectNode n = JSON.createObjectNode();
            n.put("kind", row.kind());
            n.put("epoch", row.epoch());
            n.put("step", row.step());
            double[] v = row.values();
            for (int i = 0; i < v.length; i++) if (!Double.isNaN(v[i])) n.put(MetricsRow.COLUMNS[i + 3], v[i]);
            extra.forEach((k, val) -> n.putPOJO(k, val));
            jsonl.write(JSON.writeValueAsString(n));
            jsonl.write('\n');
            jsonl.flush();
            if (events == null) return;
            for (int i = 0; i < v.length; i++) if (!Double.isNaN(v[i])) events.scalar(tag(row.kind(), MetricsRow.COLUMNS[i + 3]), row.step(), v[i]);
            extra.forEach((k, val) -> {
                if (val instanceof Number num && !k.equals("elapsed_s")) events.scalar(tag(row.kind(), k), row.step(), num.doubleValue());
            });
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: write failed: " + e.getMessage(), e);
        }
    }

    /** A text for TensorBoard's Text tab (markdown; a report goes in as a code block) at a global step. */
    public void text(String tag, long step, String markdown) {
        if (events != null) events.text(tag, step, markdown);
    }

    /** A PNG file (a plot) for TensorBoard's Images tab; nothing when the file is missing or not a PNG. */
    public void image(String tag, long step, Path png) {
        if (events == null) return;
        try {
            byte[] b = Files.readAllBytes(png);
            if (b.length < 26 || b[1] != 'P' || b[2] != 'N' || b[3] != 'G') return;
            ByteBuffer ihdr = ByteBuffer.wrap(b, 16, 10); // width, height (big-endian), bit depth, colour type
            int width = ihdr.getInt(), height = ihdr.getInt(), colour = b[25];
            int channels = switch (colour) {
                case 0 -> 1;
                case 4 -> 2;
                case 6 -> 4;
                default -> 3;
            };
            events.image(tag, step, b, height, width, channels);
        } catch (IOException e) {
            // a plot that was not written (no fonts on a headless machine) has nothing to show
        }
    }

    /** The scalar options of config.json's "run" object (numbers, booleans, strings; nulls and nested objects left out). */
    static Map<String, Object> hparams(String configJson) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        try {
            JsonNode run = JSON.readTree(configJson).path("run");
            run.properties().forEach(e -> {
                JsonNode v = e.getValue();
                if (v.isNumber()) out.put(e.getKey(), v.doubleValue());
                else if (v.isBoolean()) out.put(e.getKey(), v.booleanValue());
                else if (v.isTextual()) out.put(e.getKey(), v.textValue());
            });
        } catch (IOException e) {
            // not JSON: no hyper-parameters to show
        }
        return out;
    }

    /** TensorBoard's tag of a value: train/loss and train/lr for step rows, epoch/val_acc, test/loss (test_ dropped), ... */
    static String tag(String kind, String key) {
        if (kind.equals(MetricsRow.STEP)) return "train/" + (key.equals("train_loss") ? "loss" : key);
        return kind + "/" + (kind.equals(MetricsRow.TEST) && key.startsWith("test_") ? key.substring(5) : key);
    }

    static String csvLine(MetricsRow r) {
        StringBuilder sb = new StringBuilder(r.kind()).append(',').append(r.epoch()).append(',').append(r.step());
        for (double v : r.values()) sb.append(',').append(format(v));
        return sb.toString();
    }

    /** Nine significant digits: enough to tell runs apart, short enough to read. Empty for NaN. */
    static String format(double v) {
        if (Double.isNaN(v)) return "";
        return String.format(Locale.ROOT, "%.9g", v).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2").replaceFirst("\\.(e|$)", "$1");
    }

    /** Reads metrics.csv (a run folder or the file itself); malformed lines (a crash mid-write) are skipped. */
    public static List<MetricsRow> read(Path csvOrRunDir) {
        Path p = Files.isDirectory(csvOrRunDir) ? csvOrRunDir.resolve(CSV) : csvOrRunDir;
        List<String> lines;
        try {
            lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read metrics " + p + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty() || !lines.get(0).equals(String.join(",", MetricsRow.COLUMNS)))
            throw new IllegalArgumentException(p + ": not a transformers4j metrics.csv (expected header "
                    + String.join(",", MetricsRow.COLUMNS) + ")");
        List<MetricsRow> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",", -1);
            if (c.length != MetricsRow.COLUMNS.length) continue;
            try {
                double[] v = new double[7];
                for (int i = 0; i < 7; i++) v[i] = c[i + 3].isEmpty() ? Double.NaN : Double.parseDouble(c[i + 3]);
                rows.add(new MetricsRow(c[0], Integer.parseInt(c[1]), Long.parseLong(c[2]), v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
            } catch (NumberFormatException halfWritten) {
                // skip
            }
        }
        return rows;
    }

    @Override
    public synchronized void close() {
        try {
            csv.close();
            jsonl.close();
            if (events != null) events.close();
        } catch (IOException e) {
            throw new UncheckedIOException("metrics log: close failed: " + e.getMessage(), e);
        }
    }
}
