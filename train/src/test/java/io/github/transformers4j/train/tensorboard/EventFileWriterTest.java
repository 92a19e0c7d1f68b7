package io.github.transformers4j.train.tensorboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event files read back by an independent decoder of the TFRecord framing and of the Event protocol buffer. */
class EventFileWriterTest {
    /** One decoded event: step, and per summary value its tag and either a scalar, a text or an image's size. */
    record Event(long step, String fileVersion, int sessionStatus, List<Value> values) {}

    record Value(String tag, Float scalar, String text, int[] imageSize) {}

    /** CRC-32C (Castagnoli), bit by bit: the reference the writer's java.util.zip.CRC32C is checked against. */
    static int crc32c(byte[] b, int off, int len) {
        int crc = ~0;
        for (int i = off; i < off + len; i++) {
            crc ^= b[i] & 0xFF;
            for (int k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
        }
        return ~crc;
    }

    static int masked(int crc) {
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    static List<Event> read(Path file) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (in.hasRemaining()) {
            byte[] head = new byte[8];
            in.get(head);
            long len = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertThat(in.getInt()).as("length CRC").isEqualTo(masked(crc32c(head, 0, 8)));
            byte[] data = new byte[(int) len];
            in.get(data);
            assertThat(in.getInt()).as("data CRC").isEqualTo(masked(crc32c(data, 0, data.length)));
            events.add(event(data));
        }
        return events;
    }

    /** Minimal protobuf reader: fields as (number, wire type, value or bytes). */
    private static final class Fields {
        final ByteBuffer b;

        Fields(byte[] data) {
            b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                int x = b.get() & 0xFF;
                v |= (long) (x & 0x7F) << shift;
                if (x < 0x80) return v;
            }
        }

        byte[] bytes() {
            byte[] out = new byte[(int) varint()];
            b.get(out);
            return out;
        }
    }

    private static Event event(byte[] data) {
        Fields f = new Fields(data);
        long step = 0;
        String version = null;
        int status = -1;
        List<Value> values = new ArrayList<>();
        while (f.b.hasRemaining()) {
            long key = f.varint();
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            switch (field) {
                case 1 -> f.b.getDouble(); // wall_time
                case 2 -> step = f.varint();
                case 3 -> version = new String(f.bytes(), StandardCharsets.UTF_8);
                case 5 -> {
                    Fields s = new Fields(f.bytes());
                    while (s.b.hasRemaining()) {
                        assertThat(s.varint()).isEqualTo(1L << 3 | 2); // repeated Value value = 1
                        values.add(value(s.bytes()));
                    }
                }
                case 6 -> {
                    Fields s = new Fields(f.bytes());
                    assertThat(s.varint()).isEqualTo(1L << 3);
                    status = (int) s.varint();
                }
                default -> throw new AssertionError("unexpected Event field " + field + " (wire " + wire + ")");
            }
        }
        return new Event(step, version, status, values);
    }

    private static Value value(byte[] data) {
        Fields f = new Fields(data);
        String tag = null, text = null;
        Float scalar = null;
        int[] size = null;
        while (f.b.hasRemaining()) {
            int field = (int) (f.varint() >>> 3);
            switch (field) {
                case 1 -> tag = new String(f.bytes(), StandardCharsets.UTF_8);
                case 2 -> scalar = f.b.getFloat();
                case 4 -> {
                    Fields img = new Fields(f.bytes());
                    size = new int[3];
                    while (img.b.hasRemaining()) {
                        int k = (int) (img.varint() >>> 3);
                        if (k <= 3) size[k - 1] = (int) img.varint();
                        else img.bytes();
                    }
                }
                case 8 -> {
                    Fields t = new Fields(f.bytes());
                    while (t.b.hasRemaining()) {
                        long key = t.varint();
                        if ((key & 7) == 0) t.varint();
                        else if ((key >>> 3) == 8) text = new String(t.bytes(), StandardCharsets.UTF_8);
                        else t.bytes();
                    }
                }
                case 9 -> f.bytes(); // metadata (plugin name)
                default -> throw new AssertionError("unexpected Value field " + field);
            }
        }
        return new Value(tag, scalar, text, size);
    }

    @Test
    void scalarsTextsAndImagesReadBack(@TempDir Path dir) throws IOException {
        Path file;
        try (EventFileWriter w = EventFileWriter.create(dir)) {
            w.scalar("train/loss", 10, 2.5);
            w.scalar("train/loss", 20, 1.25);
            w.text("samples", 20, "a **summary**");
            w.image("confusion", 30, new byte[] {(byte) 0x89, 'P', 'N', 'G'}, 12, 34, 3);
            w.sessionStart(15);
            w.hparams(new java.util.LinkedHashMap<>(Map.of("lr", 0.001)));
            file = w.file();
        }
        assertThat(file.getFileName().toString()).startsWith("events.out.tfevents.");
        List<Event> events = read(file);
        assertThat(events.get(0).fileVersion()).isEqualTo("brain.Event:2");
        assertThat(events.get(1).step()).isEqualTo(10);
        assertThat(events.get(1).values()).singleElement().satisfies(v -> {
            assertThat(v.tag()).isEqualTo("train/loss");
            assertThat(v.scalar()).isEqualTo(2.5f);
        });
        assertThat(events.get(2).values().get(0).scalar()).isEqualTo(1.25f);
        assertThat(events.get(3).values().get(0).text()).isEqualTo("a **summary**");
        assertThat(events.get(4).values().get(0).imageSize()).containsExactly(12, 34, 3);
        assertThat(events.get(5).step()).isEqualTo(15);
        assertThat(events.get(5).sessionStatus()).isEqualTo(1);
        // the hparams plugin's record (tensorboard's own reader parses it: tools/tensorboard/check_events.py)
        assertThat(events.get(6).values().get(0).tag()).isEqualTo("_hparams_/session_start_info");
    }

    @Test
    void theJdkCrc32cIsTheCastagnoliCrc() {
        byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertThat(crc32c(b, 0, b.length)).isEqualTo(0xE3069283); // the check value of CRC-32C
        assertThat(EventFileWriter.maskedCrc(b, 0, b.length)).isEqualTo(masked(0xE3069283));
    }

    @Test
    void theMetricsLogWritesEveryValueAsAScalarAndAResumeStartsASession(@TempDir Path run) throws IOException {
        try (MetricsLog log = MetricsLog.create(run)) {
            log.log(MetricsRow.step(1, 5, 0.001, 2.0), Map.of("time", "12:00", "elapsed_s", 3.0));
            log.log(MetricsRow.epoch(1, 10, 0.002, 1.5, 0.4, 1.6, 0.5), Map.of("images_per_s", 1234.5));
            log.log(MetricsRow.step(2, 15, 0.003, 1.0), Map.of());
        }
        try (MetricsLog log = MetricsLog.resume(run, 10)) { // resumed at step 10: the row of step 15 is dropped
            log.log(MetricsRow.step(2, 15, 0.003, 0.9), Map.of());
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(run.resolve(MetricsLog.TENSORBOARD))) {
            // in creation order: by the name's seconds, then by its suffix (two files of one second get 0 and 1; files of
            // two seconds both get 0, so the suffix alone left their order to the directory listing)
            files = s.sorted(java.util.Comparator.comparingLong(EventFileWriterTest::seconds).thenComparingInt(EventFileWriterTest::suffix)).toList();
        }
        assertThat(files).hasSize(2);
        List<Event> first = read(files.get(0)), second = read(files.get(1));
        assertThat(scalars(first)).containsExactly("train/lr@5=0.001", "train/loss@5=2.0", "epoch/lr@10=0.002", "epoch/train_loss@10=1.5",
                "epoch/train_acc@10=0.4", "epoch/val_loss@10=1.6", "epoch/val_acc@10=0.5", "epoch/images_per_s@10=1234.5",
                "train/lr@15=0.003", "train/loss@15=1.0");
        assertThat(second.get(1).sessionStatus()).isEqualTo(1);
        assertThat(second.get(1).step()).as("after the kept rows (step 10)").isEqualTo(11);
        assertThat(scalars(second)).containsExactly("train/lr@15=0.003", "train/loss@15=0.9");
    }

    /** The seconds of events.out.tfevents.SECONDS.host.pid.n. */
    private static long seconds(Path p) {
        return Long.parseLong(p.getFileName().toString().split("\\.")[3]);
    }

    private static int suffix(Path p) {
        String n = p.getFileName().toString();
        return Integer.parseInt(n.substring(n.lastIndexOf('.') + 1));
    }

    private static List<String> scalars(List<Event> events) {
        List<String> out = new ArrayList<>();
        for (Event e : events) for (Value v : e.values()) if (v.scalar() != null) out.add(v.tag() + "@" + e.step() + "=" + v.scalar());
        return out;
    }
}
