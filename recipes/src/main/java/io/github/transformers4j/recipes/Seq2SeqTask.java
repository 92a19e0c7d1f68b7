package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.Task;
import io.github.transformers4j.train.TrainingLoop;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Encoder-decoder training with teacher forcing for {@link TrainingLoop}: per step the cross-entropy of the next token
 * over the non-padding label positions; per epoch the token-weighted mean loss and token accuracy (argmax of the
 * logits equals the label), on the validation set in eval mode without gradients. In metrics.csv the accuracy
 * columns hold token accuracy.
 *
 * <p>Checkpoints carry the run's config.json and the tokenizer ({@code tokenizer} metadata: the tokenizer.json text)
 * besides the loop's state, so a checkpoint alone can summarize.
 */
public final class Seq2SeqTask implements Task<Seq2SeqBatch> {
    /** Loss and token accuracy over a data set. */
    public record Evaluation(double loss, double tokenAccuracy, long tokens, double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(seconds, 1e-9);
        }
    }

    private final Seq2SeqTransformer model;
    private final Map<String, String> meta;

    /** @param meta metadata stored in every checkpoint (config, tokenizer, task) */
    public Seq2SeqTask(Seq2SeqTransformer model, Map<String, String> meta) {
        this.model = model;
        this.meta = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(meta));
    }

    @Override
    public Seq2SeqTransformer module() { return model; }

    @Override
    public Tensor[] inputs(Seq2SeqBatch b) {
        return new Tensor[] {b.inputIds(), b.decoderInputIds(), b.labels()};
    }

    @Override
    public long[] counts(Seq2SeqBatch b) {
        long valid = 0;
        for (long id : b.labels().toLongArray()) if (id != -100) valid++; // host labels: no device read
        return new long[] {valid, b.sourceTokens() + b.targetTokens()};
    }

    @Override
    public Output forward(Tensor[] in) {
        Tensor logits = model.forward(in[0], in[1]);
        return tokenOutput(Seq2SeqTransformer.loss(logits, in[2]), logits, in[2]);
    }

    /** A token task's output: its loss, the next-token predictions that are right, and the labels that count (not -100). */
    static Output tokenOutput(Tensor loss, Tensor logits, Tensor labels) {
        try (var g = Grad.disabled()) {
            Tensor valid = labels.ne(-100);
            Tensor hit = logits.detach().argmax(-1, false).eq(labels).logicalAnd(valid).to(DType.F64).sum();
            return new Output(loss, hit, valid.to(DType.F64).sum());
        }
    }

    @Override
    public Validation validate(DataLoader<?, Seq2SeqBatch> val, Device device, boolean progress) {
        Evaluation v = evaluate(model, val, device);
        return new Validation(v.loss(), v.tokenAccuracy(), Map.of());
    }

    @Override
    public Map<String, String> checkpointMeta() {
        return meta;
    }

    @Override
    public Names names() {
        return Names.TOKENS;
    }

    /** Token-weighted loss and accuracy in eval mode without gradients; the model's mode is restored. */
    public static Evaluation evaluate(Seq2SeqTransformer model, DataLoader<?, Seq2SeqBatch> loader, Device device) {
        long t0 = System.nanoTime();
        long[] allTokens = {0};
        TokenSums s = tokenSums(model, loader, batch -> {
            allTokens[0] += batch.sourceTokens() + batch.targetTokens();
            Tensor labels = batch.labels().to(device);
            Tensor logits = model.forward(batch.inputIds().to(device), batch.decoderInputIds().to(device));
            return tokenOutput(Seq2SeqTransformer.loss(logits, labels), logits, labels);
        });
        return new Evaluation(s.loss(), s.accuracy(), allTokens[0], (System.nanoTime() - t0) / 1e9);
    }

    /** Sums of a token task's outputs over a validation pass: loss weighted by the tokens counted, right predictions, tokens. */
    record TokenSums(double lossSum, long correct, long tokens) {
        double loss() {
            return tokens == 0 ? Double.NaN : lossSum / tokens;
        }

        double accuracy() {
            return tokens == 0 ? Double.NaN : (double) correct / tokens;
        }
    }

    /** {@code step}'s outputs summed over every batch of {@code loader}, in eval mode without gradients; the model's mode is restored. */
    static <B> TokenSums tokenSums(Module model, DataLoader<?, B> loader, java.util.function.Function<B, Output> step) {
        boolean was = model.isTraining();
        model.eval();
        double lossSum = 0;
        long correct = 0, tokens = 0;
        try (var g = Grad.disabled()) {
            for (B batch : loader.epoch(0)) {
                try (var scope = Memory.scope()) {
                    Output o = step.apply(batch);
                    long n = (long) o.count().item();
                    lossSum += o.loss().item() * n;
                    correct += (long) o.correct().item();
                    tokens += n;
                } finally {
                    if (batch instanceof AutoCloseable c) close(c);
                }
            }
        } finally {
            model.train(was);
        }
        return new TokenSums(lossSum, correct, tokens);
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing a batch: " + e.getMessage(), e);
        }
    }
}
