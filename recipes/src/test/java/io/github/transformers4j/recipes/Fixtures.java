package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/** Train's tiny data, and a tiny image classifier, so task tests run in a second or two. */
final class Fixtures {
    private Fixtures() {}

    static final List<String> CLASSES = io.github.transformers4j.train.Fixtures.CLASSES;

    /** 1x8x8 images of 4 classes, a bright quadrant each (train's fixture). */
    static ImageClassificationDataset quadrants(int n, long seed) {
        return io.github.transformers4j.train.Fixtures.quadrants(n, seed);
    }

    static DataLoader<?, Batch> loader(ImageClassificationDataset ds, int batch, boolean shuffle, long seed) {
        return io.github.transformers4j.train.Fixtures.loader(ds, batch, shuffle, seed);
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
