package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.data.vision.ImageClassificationDataset;
import io.github.transformers4j.data.vision.InMemoryImageDataset;
import io.github.transformers4j.data.vision.transforms.Transforms;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import java.util.Map;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/** Tiny data, model and task so loop tests run in a second or two. */
public final class Fixtures {
    private Fixtures() {}

    public static final List<String> CLASSES = List.of("top-left", "top-right", "bottom-left", "bottom-right");

    /**
     * 1x8x8 images of 4 classes: class k has a bright 4x4 quadrant k (values 120..250) over noise (0..110), so a
     * linear model can learn it but not instantly.
     */
    public static ImageClassificationDataset quadrants(int n, long seed) {
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

    public static DataLoader<?, Batch> loader(ImageClassificationDataset ds, int batch, boolean shuffle, long seed) {
        return DataLoader.builder(ds, Batch::collate).batchSize(batch).shuffle(shuffle).seed(seed).build();
    }

    /** flatten -> Linear(64, hidden) -> ReLU -> dropout -> Linear(hidden, classes); weights (in, out). */
    public static final class TinyMlp extends Module {
        final Parameter w1, b1, w2, b2;
        final Random4j rng;
        final double dropout;
        final int classes;

        public TinyMlp(int in, int hidden, int classes, double dropout, Random4j rng) {
            this.rng = rng;
            this.dropout = dropout;
            this.classes = classes;
            w1 = param("w1", Tensor.randn(rng, in, hidden).mul(1 / Math.sqrt(in)));
            b1 = param("b1", Tensor.zeros(hidden));
            w2 = param("w2", Tensor.randn(rng, hidden, classes).mul(1 / Math.sqrt(hidden)));
            b2 = param("b2", Tensor.zeros(classes));
        }

        public Tensor forward(Tensor images) {
            Tensor x = images.flatten(1, -1).matmul(w1.data()).add(b1.data()).relu();
            x = NnOps.dropout(x, dropout, isTraining(), rng);
            return x.matmul(w2.data()).add(b2.data());
        }

    }

    /** Classification of the quadrant images with a {@link TinyMlp}: cross-entropy, accuracy, a validation pass. */
    record ToyTask(TinyMlp model) implements Task<Batch> {
        @Override
        public Module module() { return model; }

        @Override
        public Tensor[] inputs(Batch b) {
            return new Tensor[] {b.images(), b.labels()};
        }

        @Override
        public long[] counts(Batch b) {
            return new long[] {b.size(), b.size()};
        }

        @Override
        public Output forward(Tensor[] in) {
            Tensor logits = model.forward(in[0]);
            Tensor loss = logits.logSoftmax(1).gather(1, in[1].unsqueeze(1)).mean().neg();
            try (var g = Grad.disabled()) {
                return new Output(loss, logits.detach().argmax(1, false).eq(in[1]).to(DType.F64).sum(), null);
            }
        }

        @Override
        public Validation validate(DataLoader<?, Batch> loader, Device device, boolean progress) {
            boolean was = model.isTraining();
            model.eval();
            double loss = 0;
            long right = 0, n = 0;
            try (var g = Grad.disabled()) {
                for (Batch b : loader.epoch(0)) {
                    try (var scope = Memory.scope(); b) {
                        Output o = forward(new Tensor[] {b.images(), b.labels()});
                        loss += o.loss().item() * b.size();
                        right += (long) o.correct().item();
                        n += b.size();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            } finally {
                model.train(was);
            }
            return new Validation(loss / n, (double) right / n, Map.of());
        }

        @Override
        public Map<String, String> checkpointMeta() {
            return Map.of("config", "{\"test\":true}");
        }
    }
}
