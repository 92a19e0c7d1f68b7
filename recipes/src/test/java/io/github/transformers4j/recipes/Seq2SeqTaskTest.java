package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.data.text.Seq2SeqCollator;
import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.TextPairDataset;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.LrSchedule;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.TrainingLoop;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Seq2SeqTaskTest {
    /**
     * The step a GPU captures (fixed inputs per batch shape, token-weighted sums on the device, read every log
     * interval), run eagerly on the CPU: the same weights and epoch figures as the eager step. Length-grouped batches
     * give several shapes, so several fixed input sets.
     */
    @Test
    void theCapturableStepTrainsLikeTheEagerStep(@TempDir Path eagerRun, @TempDir Path capturableRun) {
        List<TextPair> pairs = SummarizationRecipeTest.corpus(24, 0);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Tokenizer tok = SummarizationRecipe.trainTokenizer(pairs, 300, 2, quiet);
        Seq2SeqCollator collator = new Seq2SeqCollator(tok, 32, 8);
        TextPairDataset train = new TextPairDataset("toy", pairs);
        Seq2SeqTransformer eager = model(tok), captured = model(tok);
        try (DataLoader<TextPair, Seq2SeqBatch> loader = SummarizationRecipe.loader(train, collator, 8, true, 7, 0)) {
            FitResult a = trainer(eager, eagerRun, quiet).fit(loader, null, false);
            FitResult b = trainer(captured, capturableRun, quiet).capturableStepsOnCpu(true).fit(loader, null, false);
            for (int i = 0; i < 2; i++) {
                assertThat(b.epochs().get(i).trainLoss()).isCloseTo(a.epochs().get(i).trainLoss(), org.assertj.core.data.Offset.offset(1e-6));
                assertThat(b.epochs().get(i).trainAcc()).isEqualTo(a.epochs().get(i).trainAcc());
            }
        }
        Map<String, Tensor> we = eager.stateDict(), wc = captured.stateDict();
        for (String k : we.keySet()) assertThat(wc.get(k).toFloatArray()).as(k).containsExactly(we.get(k).toFloatArray());
    }

    /**
     * Micro-batches of different numbers of target tokens: each loss is weighted by its share of the step's tokens, so
     * two accumulated batches of 4 pairs make the update of one batch of 8 (the token-mean loss over all 8).
     */
    @Test
    void accumulatedMicroBatchesWeighTheirTokensAsOneBatch(@TempDir Path fullRun, @TempDir Path accumulatedRun) {
        List<TextPair> pairs = SummarizationRecipeTest.corpus(24, 0);
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Tokenizer tok = SummarizationRecipe.trainTokenizer(pairs, 300, 2, quiet);
        Seq2SeqCollator collator = new Seq2SeqCollator(tok, 32, 8);
        TextPairDataset train = new TextPairDataset("toy", pairs);
        Seq2SeqTransformer full = model(tok, 0), accumulated = model(tok, 0); // no dropout: its draws differ between batch shapes
        TrainingLoop.Config c = TrainingLoop.Config.builder().epochs(1).logEvery(1).plots(false).build();
        try (var l8 = DataLoader.builder(train, collator::collate).batchSize(8).build();
             var l4 = DataLoader.builder(train, collator::collate).batchSize(4).build()) {
            var a = new TrainingLoop<>(new Seq2SeqTask(full, Map.of()), sgd(full), new Random4j(7), fullRun, c, quiet);
            var b = new TrainingLoop<>(new Seq2SeqTask(accumulated, Map.of()), sgd(accumulated), new Random4j(7), accumulatedRun,
                    c.toBuilder().gradientAccumulation(2).build(), quiet);
            FitResult ra = a.fit(l8, null, false), rb = b.fit(l4, null, false);
            assertThat(rb.epochs().getFirst().trainLoss()).isCloseTo(ra.epochs().getFirst().trainLoss(), org.assertj.core.data.Offset.offset(1e-5));
            assertThat(b.globalStep()).isEqualTo(a.globalStep()).isEqualTo(3);
        }
        Map<String, Tensor> wa = full.stateDict(), wb = accumulated.stateDict();
        for (String k : wa.keySet()) {
            float[] x = wa.get(k).toFloatArray(), y = wb.get(k).toFloatArray();
            for (int i = 0; i < x.length; i++) assertThat(y[i]).as(k + "[" + i + "]").isCloseTo(x[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    /** SGD with a constant rate, no clipping: the update is the gradient's. */
    private static Optimization sgd(Seq2SeqTransformer model) {
        return Optimizers.create(model, "sgd", 0.05, 0, "constant", 0, 3, 0);
    }

    private static Seq2SeqTransformer model(Tokenizer tok) {
        return model(tok, 0.1);
    }

    private static Seq2SeqTransformer model(Tokenizer tok, double dropout) {
        return new Seq2SeqTransformer(new Seq2SeqConfig(tok.vocabSize(), 32, 1, 1, 2, 64, dropout, 64, tok.padId(), tok.eosId()),
                new Random4j(3));
    }

    private static TrainingLoop<Seq2SeqBatch> trainer(Seq2SeqTransformer model, Path run, PrintStream out) {
        long total = 2 * 3;
        var opt = new AdamW(model, AdamW.options(1e-3).weightDecay(0.01));
        Optimization optimization = Optimizers.of(opt, LrSchedule.linear(LrSchedule.Warmup.steps(1), total), 1e-3, 1.0, model.parameters());
        return new TrainingLoop<>(new Seq2SeqTask(model, Map.of()), optimization, new Random4j(7), run,
                TrainingLoop.Config.of(2).withLogEvery(2), out);
    }
}
