package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.models.ImageClassifier;
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

    /** Train's {@link io.github.transformers4j.train.Fixtures.TinyMlp} as an image classifier. */
    static final class TinyMlp extends ImageClassifier {
        final io.github.transformers4j.train.Fixtures.TinyMlp mlp;
        final int classes;

        TinyMlp(int in, int hidden, int classes, double dropout, Random4j rng) {
            this.classes = classes;
            this.mlp = register("mlp", new io.github.transformers4j.train.Fixtures.TinyMlp(in, hidden, classes, dropout, rng));
        }

        @Override
        public Tensor forward(Tensor images) {
            return mlp.forward(images);
        }

        @Override
        public int numClasses() {
            return classes;
        }
    }
}
