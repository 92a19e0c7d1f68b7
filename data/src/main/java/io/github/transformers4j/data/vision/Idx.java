package io.github.transformers4j.data.vision;

import io.github.transformers4j.data.DatasetException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reader for IDX files of unsigned bytes (the MNIST format), raw or gzip-compressed (detected from the
 * content, not the name). Header: two zero bytes, the type code {@code 0x08}, the number of dimensions, then
 * one big-endian int per dimension; then the data, row-major.
 */
public final class Idx {
    private Idx() {}

    /** An IDX array of unsigned bytes. */
    public record Array(byte[] data, int[] dims) {
        public int count() {
            return dims[0];
        }
    }

    /**
     * Reads {@code file}, which must have {@code expectedDims} dimensions and nothing after its data.
     * {@code what} names the elements in messages ("image", "label").
     */
    public static Array read(Path file, int expectedDims, String what) {
        String name = file.getFileName().toString();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gzip ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
            return read(in, name, gzip, expectedDims, what);
        } catch (DatasetException e) {
            throw e;
        } catch (IOException e) {
            throw new DatasetException(name + ": cannot read (" + e + ")", e);
        }
    }

    private static Array read(InputStream in, String name, boolean gzip, int expectedDims, String what)
            throws IOException {
        byte[] magic = readHeader(in, name, gzip, 4, "the 4-byte magic number");
        int code = ((magic[0] & 0xFF) << 24) | ((magic[1] & 0xFF) << 16) | ((magic[2] & 0xFF) << 8) | (magic[3] & 0xFF);
        int expectedMagic = 0x0800 | expectedDims;
        if (magic[0] != 0 || magic[1] != 0)
            throw new DatasetException(String.format("%s: not an IDX file: magic number 0x%08x, expected 0x%08x",
                    name, code, expectedMagic));
        if (magic[2] != 0x08)
            throw new DatasetException(String.format("%s: IDX data type 0x%02x not supported, expected 0x08 "
                    + "(unsigned byte); magic number 0x%08x", name, magic[2] & 0xFF, code));
        if (magic[3] != expectedDims)
            throw new DatasetException(String.format("%s: expected %d dimensions (magic number 0x%08x), found %d "
                    + "(magic number 0x%08x)", name, expectedDims, expectedMagic, magic[3] & 0xFF, code));
        byte[] dimBytes = readHeader(in, name, gzip, 4 * expectedDims, expectedDims + " dimension sizes");
        int[] dims = new int[expectedDims];
        long total = 1;
        for (int i = 0; i < expectedDims; i++) {
            dims[i] = ((dimBytes[4 * i] & 0xFF) << 24) | ((dimBytes[4 * i + 1] & 0xFF) << 16)
                    | ((dimBytes[4 * i + 2] & 0xFF) << 8) | (dimBytes[4 * i + 3] & 0xFF);
            if (dims[i] < 0 || (i > 0 && dims[i] == 0))
                throw new DatasetException(name + ": invalid dimensions " + Arrays.toString(dims));
            total *= dims[i];
        }
        if (total > Integer.MAX_VALUE - 16)
            throw new DatasetException(name + ": dimensions " + Arrays.toString(dims) + " hold " + total
                    + " bytes, more than one Java array can");
        byte[] data = new byte[(int) total];
        int got = readFully(in, data, gzip, name);
        if (got < total)
            throw new DatasetException(name + ": expected " + total + " " + what + " bytes, file ends after " + got
                    + (gzip ? " (of the decompressed data)" : ""));
        long extra = 0;
        try {
            extra = in.skip(Long.MAX_VALUE);
            while (in.read() >= 0) extra += 1 + in.skip(Long.MAX_VALUE);
        } catch (EOFException | ZipException e) {
            throw new DatasetException(name + ": damaged gzip stream after the data (" + e.getMessage() + ")", e);
        }
        if (extra > 0)
            throw new DatasetException(name + ": " + extra + " unexpected bytes after the " + total + " " + what
                    + " bytes of dimensions " + Arrays.toString(dims));
        return new Array(data, dims);
    }

    private static byte[] readHeader(InputStream in, String name, boolean gzip, int n, String what) throws IOException {
        byte[] b = new byte[n];
        int got = readFully(in, b, gzip, name);
        if (got < n) throw new DatasetException(name + ": file ends inside " + what + " of the header");
        return b;
    }

    /** Reads until {@code b} is full or the input ends; a gzip stream that ends early counts as an end. */
    private static int readFully(InputStream in, byte[] b, boolean gzip, String name) throws IOException {
        int off = 0;
        try {
            while (off < b.length) {
                int r = in.read(b, off, b.length - off);
                if (r < 0) break;
                off += r;
            }
        } catch (EOFException e) {
            // GZIPInputStream: "Unexpected end of ZLIB input stream" on a truncated file.
        } catch (ZipException e) {
            throw new DatasetException(name + ": corrupt gzip data after " + off + " decompressed bytes ("
                    + e.getMessage() + ")", e);
        }
        return off;
    }
}
