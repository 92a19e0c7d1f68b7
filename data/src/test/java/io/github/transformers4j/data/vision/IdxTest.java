package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DatasetException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {
    @TempDir
    Path dir;

    /** An IDX file of unsigned bytes: magic 0x0000 08 nd, big-endian dims, data. */
    static byte[] idx(int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(data);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(data);
        }
        return bos.toByteArray();
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) values[i];
        return b;
    }

    /** Writes a tiny MNIST-style folder: 3 images of 2x3 with pixel values k*10 + p, labels 9, 0, 4. */
    static void writeTinyMnist(Path dir, String prefix, boolean gz) throws IOException {
        byte[] pixels = new byte[3 * 6];
        for (int k = 0; k < 3; k++) for (int p = 0; p < 6; p++) pixels[k * 6 + p] = (byte) (k * 100 + p * 25);
        byte[] images = idx(new int[] {3, 2, 3}, pixels);
        byte[] labels = idx(new int[] {3}, bytes(9, 0, 4));
        String suffix = gz ? ".gz" : "";
        Files.write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix), gz ? gzip(images) : images);
        Files.write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix), gz ? gzip(labels) : labels);
    }

    @Test
    void readsRawAndGzipFilesAlike() throws IOException {
        byte[] data = bytes(0, 1, 2, 255, 128, 7);
        Files.write(dir.resolve("a-idx3-ubyte"), idx(new int[] {1, 2, 3}, data));
        Files.write(dir.resolve("a-idx3-ubyte.gz"), gzip(idx(new int[] {1, 2, 3}, data)));
        for (String name : new String[] {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
            Idx.Array a = Idx.read(dir.resolve(name), 3, "image");
            assertThat(a.dims()).containsExactly(1, 2, 3);
            assertThat(a.data()).containsExactly(data);
        }
    }

    @Test
    void mnistFolderLoadsImagesLabelsAndClassNames() throws IOException {
        writeTinyMnist(dir, "train", true);
        writeTinyMnist(dir, "t10k", false);
        for (boolean train : new boolean[] {true, false}) {
            InMemoryImageDataset ds = Mnist.fashion(dir, train);
            assertThat(ds.size()).isEqualTo(3);
            assertThat(ds.imageShape()).containsExactly(1, 2, 3);
            assertThat(ds.labels()).containsExactly(9, 0, 4);
            LabeledImage s = ds.get(2);
            assertThat(s.label()).isEqualTo(4);
            assertThat(s.image().pixels()).containsExactly(200, 225, 250, 19, 44, 69); // bytes wrap: 275 -> 19
            assertThat(ds.classes()).hasSize(10).startsWith("T-shirt/top", "Trouser").endsWith("Ankle boot");
            assertThat(ds.classes().get(s.label())).isEqualTo("Coat");
        }
        assertThat(Mnist.mnist(dir, true).classes().get(9)).isEqualTo("9");
    }

    @Test
    void truncatedImageFileNamesTheFileAndTheShortfall() throws IOException {
        byte[] full = idx(new int[] {10, 28, 28}, new byte[7840]);
        byte[] cut = Arrays.copyOf(full, 16 + 1234);
        Files.write(dir.resolve("t10k-images-idx3-ubyte"), cut);
        assertThatThrownBy(() -> Idx.read(dir.resolve("t10k-images-idx3-ubyte"), 3, "image"))
                .isInstanceOf(DatasetException.class)
                .hasMessage("t10k-images-idx3-ubyte: expected 7840 image bytes, file ends after 1234");
    }

    @Test
    void truncatedGzipFileIsReportedLikeAShortFile() throws IOException {
        byte[] random = new byte[7840];
        new java.util.Random(1).nextBytes(random); // incompressible, so cutting the gzip loses data
        byte[] gz = gzip(idx(new int[] {10, 28, 28}, random));
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), Arrays.copyOf(gz, gz.length / 2));
        assertThatThrownBy(() -> Idx.read(dir.resolve("t10k-images-idx3-ubyte.gz"), 3, "image"))
                .isInstanceOf(DatasetException.class)
                .hasMessageStartingWith("t10k-images-idx3-ubyte.gz: expected 7840 image bytes, file ends after ")
                .hasMessageEndingWith("(of the decompressed data)");
    }

    @Test
    void headerProblemsAreNamed() throws IOException {
        Path p = dir.resolve("x-idx1-ubyte");
        Files.write(p, bytes(0, 0, 8));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessage("x-idx1-ubyte: file ends inside the 4-byte magic number of the header");
        Files.write(p, bytes(0x12, 0x34, 8, 1, 0, 0, 0, 0));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessage("x-idx1-ubyte: not an IDX file: magic number 0x12340801, expected 0x00000801");
        Files.write(p, bytes(0, 0, 0x0D, 1, 0, 0, 0, 0));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessageContaining("IDX data type 0x0d not supported, expected 0x08");
        Files.write(p, idx(new int[] {2, 2, 2}, new byte[8]));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessage("x-idx1-ubyte: expected 1 dimensions (magic number 0x00000801), found 3 (magic number 0x00000803)");
        Files.write(p, bytes(0, 0, 8, 1, 0, 0));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessage("x-idx1-ubyte: file ends inside 1 dimension sizes of the header");
    }

    @Test
    void trailingBytesAreAnError() throws IOException {
        Path p = dir.resolve("l-idx1-ubyte");
        byte[] ok = idx(new int[] {3}, bytes(1, 2, 3));
        Files.write(p, Arrays.copyOf(ok, ok.length + 5));
        assertThatThrownBy(() -> Idx.read(p, 1, "label"))
                .hasMessage("l-idx1-ubyte: 5 unexpected bytes after the 3 label bytes of dimensions [3]");
    }

    @Test
    void countMismatchAndBadLabelsAreNamed() throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(new int[] {3, 1, 1}, bytes(1, 2, 3)));
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {2}, bytes(1, 2)));
        assertThatThrownBy(() -> Mnist.fashion(dir, true))
                .hasMessage("train-images-idx3-ubyte has 3 images but train-labels-idx1-ubyte has 2 labels");
        Files.write(dir.resolve("train-labels-idx1-ubyte"), idx(new int[] {3}, bytes(1, 12, 2)));
        assertThatThrownBy(() -> Mnist.fashion(dir, true))
                .hasMessage("train-labels-idx1-ubyte: label 12 at index 1 is outside 0..9");
    }

    @Test
    void missingFileIsNamedWithBothSpellings() {
        assertThatThrownBy(() -> Mnist.fashion(dir, false))
                .hasMessage("fashion-mnist: neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz found in " + dir);
    }
}
