package io.github.transformers4j.train.tensorboard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file ({@code events.out.tfevents.<seconds>.<host>}) that {@code tensorboard --logdir} reads:
 * TFRecord framing (length, masked CRC-32C of the length, the record, masked CRC-32C of the record; little-endian)
 * around {@code tensorflow.Event} protocol buffers, written by hand (the few fields below; no protobuf library):
 * <pre>
 * Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; SessionLog session_log = 6; }
 * Summary { repeated Value value = 1; }
 * Value   { string tag = 1; float simple_value = 2; Image image = 4; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
 * Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
 * </pre>
 * Each event is flushed as it is written, so a crash loses at most the record being written (which readers skip).
 */
public final class EventFileWriter implements AutoCloseable {
    private final Path file;
    private final OutputStream out;

    private EventFileWriter(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /** A new event file in {@code dir} (created if needed), starting with the file-version event. */
    public static EventFileWriter create(Path dir) {
        try {
            Files.createDirectories(dir);
            String host;
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
            long now = System.currentTimeMillis();
            String stem = "events.out.tfevents." + now / 1000 + "." + host + "." + ProcessHandle.current().pid() + ".";
            Path file;
            OutputStream out;
            for (int n = 0; ; n++) { // never another file's name: two logs opened within a second get their own
                file = dir.resolve(stem + n);
                try {
                    out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    break;
                } catch (FileAlreadyExistsException taken) {
                    // next n
                }
            }
            EventFileWriter w = new EventFileWriter(file, out);
            w.write(event(now / 1000.0, 0).string(3, "brain.Event:2"));
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException("tensorboard: cannot create an event file in " + dir + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** A scalar (TensorBoard's Scalars tab) at a global step. */
    public void scalar(String tag, long step, double value) {
        write(event(System.currentTimeMillis() / 1000.0, step).message(5, new Proto().message(1,
                new Proto().string(1, tag).fixed32(2, Float.floatToRawIntBits((float) value)))));
    }

    /** A text (TensorBoard's Text tab, markdown) at a global step: a string tensor tagged for the text plugin. */
    public void text(String tag, long step, String text) {
        Proto tensor = new Proto().varint(1, 7 /* DT_STRING */).message(2, new Proto()).bytes(8, text.getBytes(StandardCharsets.UTF_8));
        Proto metadata = new Proto().message(1, new Proto().string(1, "text"));
        write(event(System.currentTimeMillis() / 1000.0, step).message(5, new Proto().message(1,
                new Proto().string(1, tag).message(8, tensor).message(9, metadata))));
    }

    /** A PNG image (TensorBoard's Images tab) of the given size and channels (1 grey, 3 RGB, 4 RGBA). */
    public void image(String tag, long step, byte[] png, int height, int width, int channels) {
        Proto image = new Proto().varint(1, height).varint(2, width).varint(3, channels).bytes(4, png);
        write(event(System.currentTimeMillis() / 1000.0, step).message(5, new Proto().message(1,
                new Proto().string(1, tag).message(4, image))));
    }

    /**
     * The run's hyper-parameters for TensorBoard's HParams tab: the hparams plugin's SessionStartInfo
     * ({@code map<string, google.protobuf.Value> hparams = 1; double start_time_secs = 5}) under the tag
     * {@code _hparams_/session_start_info}, with the plugin's empty float tensor. Values: Number, Boolean or String.
     */
    public void hparams(java.util.Map<String, Object> values) {
        Proto start = new Proto();
        values.forEach((k, v) -> {
            Proto value = switch (v) {
                case Boolean b -> new Proto().varint(4, b ? 1 : 0);
                case Number n -> new Proto().fixed64(2, Double.doubleToRawLongBits(n.doubleValue()));
                default -> new Proto().string(3, String.valueOf(v));
            };
            start.message(1, new Proto().string(1, k).message(2, value));
        });
        start.fixed64(5, Double.doubleToRawLongBits(System.currentTimeMillis() / 1000.0));
        Proto pluginData = new Proto().message(3, start); // HParamsPluginData { version 0 (default); session_start_info = 3 }
        Proto metadata = new Proto().message(1, new Proto().string(1, "hparams").bytes(2, pluginData.bytes()));
        Proto nullTensor = new Proto().varint(1, 1 /* DT_FLOAT */).message(2, new Proto().message(2, new Proto()));
        write(event(System.currentTimeMillis() / 1000.0, 0).message(5, new Proto().message(1,
                new Proto().string(1, "_hparams_/session_start_info").message(8, nullTensor).message(9, metadata))));
    }

    /** SessionLog START at {@code step}: a resumed run's first event, so TensorBoard purges the orphaned tail. */
    public void sessionStart(long step) {
        write(event(System.currentTimeMillis() / 1000.0, step).message(6, new Proto().varint(1, 1 /* START */)));
    }

    private static Proto event(double wallTime, long step) {
        return new Proto().fixed64(1, Double.doubleToRawLongBits(wallTime)).varint(2, step);
    }

    private synchronized void write(Proto event) {
        byte[] data = event.bytes();
        ByteBuffer head = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(data.length);
        head.putInt(maskedCrc(head.array(), 0, 8));
        ByteBuffer tail = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length));
        try {
            out.write(head.array());
            out.write(data);
            out.write(tail.array());
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("tensorboard: cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** TFRecord's masked CRC-32C: rotate right by 15 and add a constant (so CRCs of CRCs stay well mixed). */
    static int maskedCrc(byte[] b, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(b, off, len);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    @Override
    public synchronized void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("tensorboard: cannot close " + file + ": " + e.getMessage(), e);
        }
    }

    /** A protocol-buffer message under construction: fields appended in the wire format. */
    static final class Proto {
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        private void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                buf.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            buf.write((int) v);
        }

        private void key(int field, int wireType) {
            rawVarint((long) field << 3 | wireType);
        }

        Proto varint(int field, long v) {
            key(field, 0);
            rawVarint(v);
            return this;
        }

        Proto fixed64(int field, long v) {
            key(field, 1);
            for (int i = 0; i < 8; i++) buf.write((int) (v >>> (8 * i)));
            return this;
        }

        Proto fixed32(int field, int v) {
            key(field, 5);
            for (int i = 0; i < 4; i++) buf.write(v >>> (8 * i));
            return this;
        }

        Proto bytes(int field, byte[] b) {
            key(field, 2);
            rawVarint(b.length);
            buf.writeBytes(b);
            return this;
        }

        Proto string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.bytes());
        }

        byte[] bytes() {
            return buf.toByteArray();
        }
    }
}
