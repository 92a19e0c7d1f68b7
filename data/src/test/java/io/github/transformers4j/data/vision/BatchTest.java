package io.github.transformers4j.data.vision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.vision.transforms.Transforms;
import io.github.transformers4j.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchTest {
    /** n images 1x2x2 whose pixels are 4i, 4i+1, 4i+2, 4i+3; label i % 10. */
    static InMemoryImageDataset tiny(int n) {
        byte[] px = new byte[4 * n];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < 4; p++) px[4 * i + p] = (byte) (4 * i + p);
            labels[i] = i % 10;
        }
        return new InMemoryImageDataset("tiny", px, labels, 1, 2, 2, Mnist.Variant.MNIST.classes());
    }

    @Test
    void collateStacksImagesAndLabels() {
        var ds = tiny(3);
        try (Batch b = Batch.collate(List.of(ds.get(2), ds.get(0)))) {
            assertThat(b.size()).isEqualTo(2);
            assertThat(b.images().shape()).containsExactly(2, 1, 2, 2);
            assertThat(b.images().dtype()).isEqualTo(DType.F32);
            assertThat(b.images().toFloatArray()).containsExactly(8, 9, 10, 11, 0, 1, 2, 3);
            assertThat(b.labels().dtype()).isEqualTo(DType.I64);
            assertThat(b.labels().shape()).containsExactly(2);
            assertThat(b.labels().toLongArray()).containsExactly(2, 0);
        }
    }

    @Test
    void collateRejectsMixedShapes() {
        var a = new LabeledImage(new Image(new float[4], 1, 2, 2), 0);
        var b = new LabeledImage(new Image(new float[6], 1, 2, 3), 1);
        assertThatThrownBy(() -> Batch.collate(List.of(a, b)))
                .hasMessageContaining("sample 1 has shape [1, 2, 3], sample 0 has [1, 2, 2]");
    }

    @Test
    void loaderWithAugmentationGivesIdenticalBatchesForOneAndFourWorkers() {
        var train = tiny(50).withTransform(Transforms.compose(Transforms.randomCrop(2, 1),
                Transforms.randomHorizontalFlip(0.5), Transforms.toTensor()), 123);
        List<float[]> images1 = new ArrayList<>(), images4 = new ArrayList<>();
        List<long[]> labels1 = new ArrayList<>(), labels4 = new ArrayList<>();
        for (int workers : new int[] {1, 4}) {
            try (var loader = DataLoader.builder(train, Batch::collate).batchSize(8).shuffle(true).seed(7)
                    .dropLast(true).numWorkers(workers).build()) {
                assertThat(loader.numBatches()).isEqualTo(6);
                for (int epoch = 0; epoch < 2; epoch++)
                    for (Batch b : loader.epoch(epoch)) {
                        assertThat(b.images().shape()).containsExactly(8, 1, 2, 2);
                        (workers == 1 ? images1 : images4).add(b.images().toFloatArray());
                        (workers == 1 ? labels1 : labels4).add(b.labels().toLongArray());
                        b.close();
                    }
            }
        }
        assertThat(images4).hasSize(12);
        for (int i = 0; i < 12; i++) {
            assertThat(images4.get(i)).containsExactly(images1.get(i));
            assertThat(labels4.get(i)).containsExactly(labels1.get(i));
        }
        // augmentation differs between epochs: the same first sample of epoch 0 and 1 rarely looks the same
        assertThat(images1.get(0)).isNotEqualTo(images1.get(6));
        // the first sample of epoch 1 is the transformed dataset's sample at the loader's first index
        try (var loader = DataLoader.builder(train, Batch::collate).batchSize(8).shuffle(true).seed(7).build()) {
            int index = loader.order(1)[0];
            float[] expected = train.get(index, 1).image().pixels();
            assertThat(java.util.Arrays.copyOf(images1.get(6), 4)).containsExactly(expected);
            assertThat(labels1.get(6)[0]).isEqualTo(index % 10);
        }
    }
}
