package io.github.transformers4j.io;

import java.nio.charset.StandardCharsets;

/** Builds safetensors bytes by hand, per the format, without the library's writer. */
final class StFiles {
    private StFiles() {}

    /** 8-byte little-endian length of the UTF-8 header, the header (unpadded), then the data bytes. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return concat(u64(h.length), h, data);
    }

    static byte[] file(String header) {
        return file(header, new byte[0]);
    }

    /** Little-endian u64, byte by byte. */
    static byte[] u64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) b[i] = (byte) (v >>> (8 * i));
        return b;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** Little-endian bytes of floats, via their IEEE bits. */
    static byte[] f32(float... values) {
        byte[] b = new byte[4 * values.length];
        for (int i = 0; i < values.length; i++) {
            int bits = Float.floatToRawIntBits(values[i]);
            for (int k = 0; k < 4; k++) b[4 * i + k] = (byte) (bits >>> (8 * k));
        }
        return b;
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    /** Header text padded with spaces to a multiple of 8 bytes, as the reference writer pads. */
    static String padded(String header) {
        int n = header.getBytes(StandardCharsets.UTF_8).length;
        return header + " ".repeat((8 - n % 8) % 8);
    }
}
