package io.github.transformers4j.train;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains an encoder-decoder model with teacher forcing, as {@link Trainer} does for images and with the same run
 * folder (config.json, metrics.csv/.jsonl, train.log, checkpoints/last|best.safetensors, loss.png, accuracy.png):
 * per step the cross-entropy of the next token over the non-padding label positions; per epoch the token-weighted mean
 * training loss and token accuracy, and the same on the validation set (eval mode, no gradients). In metrics.csv the
 * accuracy columns hold token accuracy (argmax of the logits equals the label).
 *
 * <p>Checkpoints carry the model, the optimizer state, the RNG counter, the run's config.json and the tokenizer
 * ({@code tokenizer} metadata: the tokenizer.json text), so a checkpoint alone can summarize; {@code resume}
 * continues after the last completed epoch.
 */
public final class Seq2SeqTrainer extends TrainingLoop<Seq2SeqBatch> {
    /** Loss and token accuracy over a data set. */
    public record Evaluation(double loss, double tokenAccuracy, long tokens, double seconds) {
        public double tokensPerSecond() {
            return tokens / Math.max(seconds, 1e-9);
        }
    }

    private final Seq2SeqTransformer model;
    private final Map<String, String> meta;

    /** @param meta metadata stored in every checkpoint (config, tokenizer, task) */
    public Seq2SeqTrainer(Seq2SeqTransformer model, Optimization optimization, Random4j rng, Path runDir, Trainer.Config config,
                          Map<String, String> meta, PrintStream out) {
        super(model, optimization, rng, runDir, config, out);
        this.model = model;
        this.meta = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(meta));
    }

    public Seq2SeqTrainer onDevice(Device d) {
        setDevice(d);
        return this;
    }

    /** Mixed precision for the forward pass and loss ({@link Autocast}; null = fp32); the backward and the optimizer run outside it. */
    public Seq2SeqTrainer precision(DType autocast) {
        setAutocast(autocast);
        return this;
    }

    /**
     * A wall-clock budget for {@link #fit} in seconds (0 = none): no epoch starts that would, at the last epoch's pace,
     * end past it. The learning-rate schedule still spans all epochs, so a stopped run ends before its decay does.
     */
    public Seq2SeqTrainer timeLimit(double seconds) {
        setTimeLimit(seconds);
        return this;
    }

    @Override
    protected StepStats trainStep(Seq2SeqBatch batch) {
        optimization.zeroGrad();
        Tensor labels = batch.labels().to(device), logits, loss;
        try (var ac = Autocast.enable(autocast)) {
            logits = model.forward(batch.inputIds().to(device), batch.decoderInputIds().to(device));
            loss = Seq2SeqTransformer.loss(logits, labels);
        }
        loss.backward();
        optimization.step(globalStep);
        long[] acc = tokenAccuracy(logits, labels);
        return new StepStats(loss.item(), acc[0], acc[1], batch.sourceTokens() + batch.targetTokens());
    }

    @Override
    protected CapturableStep<Seq2SeqBatch> capturable() {
        return new CapturableStep<>() {
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
            public Runnable step(Tensor[] in, Tensor acc) {
                return () -> {
                    try (var scope = Memory.scope()) {
                        optimization.zeroGrad();
                        Tensor logits, loss;
                        try (var ac = Autocast.enable(autocast)) {
                            logits = model.forward(in[0], in[1]);
                            loss = Seq2SeqTransformer.loss(logits, in[2]);
                        }
                        loss.backward();
                        optimization.step(globalStep);
                        try (var g = Grad.disabled()) {
                            Tensor valid = in[2].ne(-100);
                            Tensor hit = logits.detach().argmax(-1, false).eq(in[2]).logicalAnd(valid).to(DType.F64).sum().reshape(1);
                            Tensor count = valid.to(DType.F64).sum().reshape(1);
                            acc.narrow(0, 0, 1).add_(loss.detach().to(DType.F64).reshape(1).mul(count), 1);
                            acc.narrow(0, 1, 1).add_(hit, 1);
                        }
                    }
                };
            }
        };
    }

    /** Whether steps on a GPU are captured into CUDA graphs (default true), one graph per batch shape (at most 8). */
    public Seq2SeqTrainer cudaGraphs(boolean on) {
        setCudaGraphs(on);
        return this;
    }

    @Override
    protected ValStats validate(DataLoader<?, Seq2SeqBatch> val, int epoch) {
        Evaluation v = evaluate(model, val, device);
        return new ValStats(v.loss(), v.tokenAccuracy(), Map.of());
    }

    @Override
    protected Map<String, String> checkpointMeta() {
        return meta;
    }

    @Override
    protected String accuracyName() { return "tok-acc"; }

    @Override
    protected String throughputUnit() { return "tok/s"; }

    @Override
    protected String throughputKey() { return "tokens_per_s"; }

    /** {correct, counted} over label positions that are not -100. */
    static long[] tokenAccuracy(Tensor logits, Tensor labels) {
        try (var g = Grad.disabled()) {
            Tensor valid = labels.ne(-100);
            Tensor hit = logits.detach().argmax(-1, false).eq(labels).logicalAnd(valid);
            return new long[] {(long) hit.to(DType.F64).sum().item(), (long) valid.to(DType.F64).sum().item()};
        }
    }

    /** Token-weighted loss and accuracy in eval mode without gradients; the model's mode is restored. */
    public static Evaluation evaluate(Seq2SeqTransformer model, DataLoader<?, Seq2SeqBatch> loader, Device device) {
        long t0 = System.nanoTime();
        boolean was = model.isTraining();
        model.eval();
        double lossSum = 0;
        long correct = 0, tokens = 0, allTokens = 0;
        try (var g = Grad.disabled()) {
            for (Seq2SeqBatch batch : loader.epoch(0)) {
                try (var scope = Memory.scope(); batch) {
                    Tensor labels = batch.labels().to(device);
                    Tensor logits = model.forward(batch.inputIds().to(device), batch.decoderInputIds().to(device));
                    long[] acc = tokenAccuracy(logits, labels);
                    lossSum += Seq2SeqTransformer.loss(logits, labels).item() * acc[1];
                    correct += acc[0];
                    tokens += acc[1];
                    allTokens += batch.sourceTokens() + batch.targetTokens();
                }
            }
        } finally {
            model.train(was);
        }
        return new Evaluation(tokens == 0 ? Double.NaN : lossSum / tokens, tokens == 0 ? Double.NaN : (double) correct / tokens, allTokens,
                (System.nanoTime() - t0) / 1e9);
    }
}
