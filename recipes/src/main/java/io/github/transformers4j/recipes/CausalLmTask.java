package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.train.Task;
import io.github.transformers4j.train.TrainingLoop;
import java.util.List;
import java.util.Map;

/**
 * Causal language modelling (GPT-2) for {@link TrainingLoop}, as Hugging Face's {@code GPT2LMHeadModel} with
 * {@code labels}: token {@code t} predicts token {@code t + 1}; the loss is the mean cross-entropy over the positions
 * whose next token is not padding, and the accuracy is next-token accuracy.
 *
 * <pre>{@code
 * var loader = DataLoader.builder(sequences, seqs -> CausalLmTask.Batch.collate(seqs, padId)).batchSize(8).shuffle(true).seed(1).build();
 * new TrainingLoop<>(new CausalLmTask(model, Map.of()), optimization, rng, runDir, config, System.out).fit(loader, null, false);
 * }</pre>
 */
public final class CausalLmTask implements Task<CausalLmTask.Batch> {
    /**
     * Token sequences padded to the longest: {@code inputIds} (B, L) int64, {@code attentionMask} (B, L) int64 (1 =
     * token, 0 = padding), {@code labels} (B, L) int64: the ids, -100 at padding.
     */
    public record Batch(Tensor inputIds, Tensor attentionMask, Tensor labels) implements AutoCloseable {
        /** Pads sequences (right, with {@code padId}) into a batch; every sequence needs two tokens at least. */
        public static Batch collate(List<int[]> sequences, int padId) {
            int b = sequences.size(), l = 0;
            for (int[] s : sequences) {
                if (s.length < 2) throw new IllegalArgumentException("causal LM: a sequence of " + s.length + " tokens has nothing to predict");
                l = Math.max(l, s.length);
            }
            long[] ids = new long[b * l], mask = new long[b * l], labels = new long[b * l];
            for (int i = 0; i < b; i++) {
                int[] s = sequences.get(i);
                for (int j = 0; j < l; j++) {
                    boolean token = j < s.length;
                    ids[i * l + j] = token ? s[j] : padId;
                    mask[i * l + j] = token ? 1 : 0;
                    labels[i * l + j] = token ? s[j] : -100;
                }
            }
            return new Batch(Tensor.ofLongs(ids, b, l), Tensor.ofLongs(mask, b, l), Tensor.ofLongs(labels, b, l));
        }

        @Override
        public void close() {
            inputIds.release();
            attentionMask.release();
            labels.release();
        }
    }

    private final GPT2LMHeadModel model;
    private final Map<String, String> meta;

    /** @param meta metadata stored in every checkpoint (the run's configuration, a tokenizer, ...) */
    public CausalLmTask(GPT2LMHeadModel model, Map<String, String> meta) {
        this.model = model;
        this.meta = Map.copyOf(meta);
    }

    @Override
    public GPT2LMHeadModel module() { return model; }

    @Override
    public Tensor[] inputs(Batch b) {
        return new Tensor[] {b.inputIds(), b.attentionMask(), b.labels()};
    }

    /** {next tokens predicted, tokens}: labels past the first position that are not padding. */
    @Override
    public long[] counts(Batch b) {
        long[] y = b.labels().toLongArray();
        int l = b.labels().size(1);
        long valid = 0, tokens = 0;
        for (int i = 0; i < y.length; i++) {
            if (y[i] != -100) tokens++;
            if (i % l != 0 && y[i] != -100) valid++;
        }
        return new long[] {valid, tokens};
    }

    @Override
    public Output forward(Tensor[] in) {
        int b = in[0].size(0), l = in[0].size(1);
        Tensor logits = model.forward(in[0], in[1], null, ModelOutput.Want.NONE).logits();     // (B, L, V)
        Tensor shifted = logits.narrow(1, 0, l - 1).reshape(b * (l - 1), -1);                   // predictions of tokens 1..L-1
        Tensor next = in[2].narrow(1, 1, l - 1).contiguous().reshape(b * (l - 1));
        return Seq2SeqTask.tokenOutput(F.crossEntropy(shifted, next), shifted, next);             // mean over non-padding targets
    }

    @Override
    public Validation validate(DataLoader<?, Batch> loader, Device device, boolean progress) {
        Seq2SeqTask.TokenSums t = Seq2SeqTask.tokenSums(model, loader, batch -> {
            Tensor[] in = inputs(batch);
            for (int i = 0; i < in.length; i++) in[i] = in[i].to(device);
            return forward(in);
        });
        return new Validation(t.loss(), t.accuracy(), Map.of("val_perplexity", Math.exp(t.loss())));
    }

    @Override
    public Map<String, String> checkpointMeta() {
        return meta;
    }

    @Override
    public Names names() {
        return Names.TOKENS;
    }
}
