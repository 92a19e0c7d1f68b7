package io.github.transformers4j.recipes;

import io.github.transformers4j.train.*;
import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.data.vision.InMemoryImageDataset;
import io.github.transformers4j.data.vision.transforms.Transforms;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/** Tiny data and model so trainer tests run in a second or two. */
final class Fixtures {
    private Fixtures() {}

    static final List<String> CLASSES = List.of("top-left", "top-right", "bottom-left", "bottom-right");

    /**
     * 1x8x8 images of 4 classes: class k has a bright 4x4 quadrant k (values 120..250) over noise (0..110), so a
     * linear model can learn it but not instantly.
     */
    static ImageClassificationDataset quadrants(int n, long seed) {
        SampleRng r = new SampleRng(seed);
        byte[] px = new byte[n * 64];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(4);
            labels[i] = k;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) {
                    boolean in = (y / 4) == k / 2 && (x / 4) == k % 2;
                    int v = in ? 120 + r.nextInt(131) : r.nextInt(111);
                    px[i * 64 + y * 8 + x] = (byte) v;
                }
        }
        return new InMemoryImageDataset("quadrants", px, labels, 1, 8, 8, CLASSES).withTransform(Transforms.toTensor(), 0);
    }

    static DataLoader<?, Batch> loader(ImageClassificationDataset ds, int batch, boolean shuffle, long seed) {
        return DataLoader.builder(ds, Batch::collate).batchSize(batch).shuffle(shuffle).seed(seed).build();
    }

    /** flatten -> Linear(64, hidden) -> ReLU -> dropout -> Linear(hidden, classes); weights (in, out). */
    static final class TinyMlp extends ImageClassifier {
        final Parameter w1, b1, w2, b2;
        final Random4j rng;
        final double dropout;
        final int classes;

        TinyMlp(int in, int hidden, int classes, double dropout, Random4j rng) {
            this.rng = rng;
            this.dropout = dropout;
            this.classes = classes;
            w1 = param("w1", Tensor.randn(rng, in, hidden).mul(1 / Math.sqrt(in)));
            b1 = param("b1", Tensor.zeros(hidden));
            w2 = param("w2", Tensor.randn(rng, hidden, classes).mul(1 / Math.sqrt(hidden)));
            b2 = param("b2", Tensor.zeros(classes));
        }

        @Override
        public Tensor forward(Tensor images) {
            Tensor x = images.flatten(1, -1).matmul(w1.data()).add(b1.data()).relu();
            x = NnOps.dropout(x, dropout, isTraining(), rng);
            return x.matmul(w2.data()).add(b2.data());
        }

        @Override
        public int numClasses() {
            return classes;
        }
    }
}
