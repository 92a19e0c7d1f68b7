package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DatasetException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CifarTest {
    @TempDir
    Path dir;

    /** Records of {@code labels.length} label bytes each, then 3072 pixels whose value is (record + 3 * pixel) % 256. */
    static byte[] records(int[][] labels, int firstRecord) {
        int recordSize = labels[0].length + 3072;
        byte[] out = new byte[labels.length * recordSize];
        for (int r = 0; r < labels.length; r++) {
            int base = r * recordSize;
            for (int k = 0; k < labels[r].length; k++) out[base + k] = (byte) labels[r][k];
            for (int p = 0; p < 3072; p++) out[base + labels[r].length + p] = (byte) (firstRecord + r + 3 * p);
        }
        return out;
    }

    /** CIFAR-10 train files of 2 records each (labels 2k, 2k+1 mod 10) and a test file of 3 records. */
    static void writeCifar10(Path dir) throws IOException {
        for (int b = 1; b <= 5; b++)
            Files.write(dir.resolve("data_batch_" + b + ".bin"),
                    records(new int[][] {{(2 * b) % 10}, {(2 * b + 1) % 10}}, 2 * (b - 1)));
        Files.write(dir.resolve("test_batch.bin"), records(new int[][] {{3}, {8}, {0}}, 100));
    }

    static void writeCifar100(Path dir) throws IOException {
        Files.write(dir.resolve("train.bin"), records(new int[][] {{19, 99}, {0, 4}}, 0));
        Files.write(dir.resolve("test.bin"), records(new int[][] {{7, 42}}, 50));
    }

    @Test
    void cifar10ReadsAllBatchesInOrderWithChannelPlanes() throws IOException {
        writeCifar10(dir);
        InMemoryImageDataset train = Cifar.cifar10(dir, true);
        assertThat(train.size()).isEqualTo(10);
        assertThat(train.imageShape()).containsExactly(3, 32, 32);
        assertThat(train.labels()).containsExactly(2, 3, 4, 5, 6, 7, 8, 9, 0, 1);
        Image img = train.get(5).image(); // record 5 overall: pixel p = (5 + 3p) % 256
        assertThat(img.get(0, 0, 0)).isEqualTo(5);
        assertThat(img.get(0, 0, 1)).isEqualTo(8);
        assertThat(img.get(1, 0, 0)).isEqualTo((5 + 3 * 1024) % 256); // green plane starts at byte 1024
        assertThat(img.get(2, 31, 31)).isEqualTo((5 + 3 * 3071) % 256);
        assertThat(train.classes()).containsExactly("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                "horse", "ship", "truck");
        InMemoryImageDataset test = Cifar.cifar10(dir, false);
        assertThat(test.labels()).containsExactly(3, 8, 0);
        assertThat(test.get(1).image().get(0, 0, 0)).isEqualTo(101);
    }

    @Test
    void cifar10ClassNamesComeFromBatchesMetaWhenPresent() throws IOException {
        writeCifar10(dir);
        Files.writeString(dir.resolve("batches.meta.txt"), "a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n");
        assertThat(Cifar.cifar10(dir, false).classes()).containsExactly("a0", "a1", "a2", "a3", "a4", "a5", "a6",
                "a7", "a8", "a9");
        Files.writeString(dir.resolve("batches.meta.txt"), "a0\na1\n");
        assertThatThrownBy(() -> Cifar.cifar10(dir, false)).hasMessage("batches.meta.txt: 2 class names, expected 10");
    }

    @Test
    void cifar100FineOrCoarseLabels() throws IOException {
        writeCifar100(dir);
        InMemoryImageDataset fine = Cifar.cifar100(dir, true, Cifar.Labels.FINE);
        InMemoryImageDataset coarse = Cifar.cifar100(dir, true, Cifar.Labels.COARSE);
        assertThat(fine.labels()).containsExactly(99, 4);
        assertThat(coarse.labels()).containsExactly(19, 0);
        assertThat(fine.classes()).hasSize(100);
        assertThat(fine.classes().get(99)).isEqualTo("worm");
        assertThat(fine.classes().get(4)).isEqualTo("beaver");
        assertThat(coarse.classes()).hasSize(20);
        assertThat(coarse.classes().get(19)).isEqualTo("vehicles_2");
        assertThat(fine.get(1).image().get(0, 0, 0)).isEqualTo(1); // pixels start after both label bytes
        assertThat(Cifar.cifar100(dir, false, Cifar.Labels.FINE).labels()).containsExactly(42);
        // built-in fine names are sorted and unique, as in the official meta file
        assertThat(Cifar.CIFAR100_FINE_CLASSES).isSorted().doesNotHaveDuplicates();
        assertThat(Cifar.CIFAR100_COARSE_CLASSES).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void cifar100ClassNamesFromFiles() throws IOException {
        writeCifar100(dir);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) sb.append("super").append(i).append('\n');
        Files.writeString(dir.resolve("coarse_label_names.txt"), sb);
        assertThat(Cifar.cifar100(dir, true, Cifar.Labels.COARSE).classes().get(19)).isEqualTo("super19");
        assertThat(Cifar.cifar100(dir, true, Cifar.Labels.FINE).classes().get(99)).isEqualTo("worm");
    }

    @Test
    void truncatedRecordFileNamesTheFileAndTheLeftover() throws IOException {
        writeCifar10(dir);
        byte[] b = Files.readAllBytes(dir.resolve("data_batch_3.bin"));
        Files.write(dir.resolve("data_batch_3.bin"), Arrays.copyOf(b, b.length - 100));
        assertThatThrownBy(() -> Cifar.cifar10(dir, true))
                .isInstanceOf(DatasetException.class)
                .hasMessage("data_batch_3.bin: 6046 bytes is not a whole number of 3073-byte records "
                        + "(1 records, then 2973 bytes; truncated or not a CIFAR binary file)");
    }

    @Test
    void cifar100FileReadAsCifar10FailsOnRecordSizeOrLabel() throws IOException {
        writeCifar100(dir);
        Files.write(dir.resolve("test.bin"), records(new int[][] {{3, 150}}, 0));
        assertThatThrownBy(() -> Cifar.cifar100(dir, false, Cifar.Labels.FINE))
                .hasMessage("test.bin: record 0 has label 150, expected 0..99 (not a cifar100 file, or corrupt)");
        Files.write(dir.resolve("test.bin"), new byte[0]);
        assertThatThrownBy(() -> Cifar.cifar100(dir, false, Cifar.Labels.FINE))
                .hasMessage("test.bin: empty file, expected 3074-byte records");
    }

    @Test
    void missingBatchesAreListed() throws IOException {
        writeCifar10(dir);
        Files.delete(dir.resolve("data_batch_2.bin"));
        Files.delete(dir.resolve("data_batch_4.bin"));
        assertThatThrownBy(() -> Cifar.cifar10(dir, true))
                .hasMessage("cifar10 train: missing data_batch_2.bin, data_batch_4.bin in " + dir);
    }
}
