package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.models.gpt2.GPT2Config;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.TrainingLoop;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPT-2 language modelling through the same loop as the other tasks. */
class CausalLmTaskTest {
    static final int VOCAB = 16, PAD = 0;

    /** Counting sequences: a random start in 1..15, then +1 each token (wrapping past 15 to 1), lengths 6 to 12. */
    static Dataset<int[]> counting(int n, long seed) {
        Random4j r = new Random4j(seed);
        List<int[]> out = new ArrayList<>();
        float[] u = io.github.transformers4j.tensor.Tensor.rand(r, 2 * n).toFloatArray();
        for (int i = 0; i < n; i++) {
            int start = 1 + (int) (u[2 * i] * 15), len = 6 + (int) (u[2 * i + 1] * 7);
            int[] s = new int[len];
            for (int j = 0; j < len; j++) s[j] = 1 + (start - 1 + j) % 15;
            out.add(s);
        }
        return new Dataset<>() {
            @Override
            public int size() { return out.size(); }

            @Override
            public int[] get(int index) { return out.get(index); }
        };
    }

    @Test
    void aTinyGpt2LearnsToCountAndTheLossIsOverNonPaddingNextTokens(@TempDir Path run) {
        var model = new GPT2LMHeadModel(GPT2Config.of(VOCAB, 16, 32, 2, 2), new Random4j(3));
        var opt = Optimizers.create(model, "adamw", 3e-3, 0.01, "constant", 0, 1000, 1.0);
        var loop = new TrainingLoop<>(new CausalLmTask(model, Map.of()), opt, new Random4j(3), run,
                TrainingLoop.Config.builder().epochs(6).logEvery(4).plots(false).build(), new PrintStream(new ByteArrayOutputStream()));
        FitResult r;
        try (var train = DataLoader.builder(counting(256, 1), (List<int[]> s) -> CausalLmTask.Batch.collate(s, PAD)).batchSize(16)
                .shuffle(true).seed(1).build();
             var val = DataLoader.builder(counting(64, 2), (List<int[]> s) -> CausalLmTask.Batch.collate(s, PAD)).batchSize(32).build()) {
            r = loop.fit(train, val, false);
        }
        // chance is 1/15 per token (loss ln 15 = 2.7); counting is learnable from the previous token alone
        assertThat(r.epochs().getFirst().trainLoss()).isGreaterThan(1.0);
        assertThat(r.epochs().getLast().valLoss()).isLessThan(0.2);
        assertThat(r.epochs().getLast().valAcc()).isGreaterThan(0.95);
        assertThat(MetricsLog.read(run).stream().filter(x -> x.kind().equals(MetricsRow.EPOCH))).hasSize(6);
    }

    @Test
    void collatePadsRightAndMasksThePaddingOutOfTheLabels() {
        try (var b = CausalLmTask.Batch.collate(List.of(new int[] {5, 6, 7}, new int[] {9, 10}), PAD)) {
            assertThat(b.inputIds().toLongArray()).containsExactly(5, 6, 7, 9, 10, PAD);
            assertThat(b.attentionMask().toLongArray()).containsExactly(1, 1, 1, 1, 1, 0);
            assertThat(b.labels().toLongArray()).containsExactly(5, 6, 7, 9, 10, -100);
            // next tokens predicted: 6, 7 and 10 (the padding after 10 is not a target)
            assertThat(new CausalLmTask(new GPT2LMHeadModel(GPT2Config.of(VOCAB, 8, 8, 1, 1), new Random4j(1)), Map.of()).counts(b))
                    .containsExactly(3, 5);
        }
    }
}
