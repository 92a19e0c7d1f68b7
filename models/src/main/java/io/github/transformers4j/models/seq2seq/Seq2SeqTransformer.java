package io.github.transformers4j.models.seq2seq;

import io.github.transformers4j.nn.Embedding;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.Reduction;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.nn.transformer.KVCache;
import io.github.transformers4j.nn.transformer.Transformer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An encoder-decoder transformer for summarization, structured as the PyTorch reference {@code Seq2Seq} of the
 * benchmark harness: token embeddings {@code emb} shared by encoder and decoder and tied to the output projection
 * {@code head} (which adds only a bias), learned positions {@code pos} shared by both sides, one LayerNorm {@code ln}
 * after the embedding sum, and {@code tf}, a batch-first post-norm {@link Transformer} (residual dropout in every
 * layer, a final norm on each stack).
 *
 * <p>Positions count from 1; a padding token gets position 0, whose embedding row stays zero (the pad index of
 * {@code pos}). Differences from the reference, on purpose: positions are pad-aware (the reference numbers padding
 * too), and embeddings start N(0, 0.02) as BART's (the reference keeps nn.Embedding's N(0, 1), which with a tied head
 * gives initial logits of standard deviation about sqrt(d_model)).
 *
 * <p>State-dict keys: {@code emb.weight, pos.weight, ln.*, tf.encoder.layers.N.*, tf.encoder.norm.*, tf.decoder.*,
 * head.bias} (the tied {@code head.weight} is {@code emb.weight}).
 */
public class Seq2SeqTransformer extends Module {
    public final Seq2SeqConfig config;
    public final Embedding emb, pos;
    public final LayerNorm ln;
    public final Transformer tf;
    public final TiedHead head;

    /** The output projection: logits = h emb.weight^T + bias. */
    public static final class TiedHead extends Module {
        private final Parameter weight;
        public final Parameter bias;

        TiedHead(Parameter tiedWeight, int vocab) {
            this.weight = tiedWeight;
            this.bias = param("bias", Tensor.zeros(vocab));
        }

        public Tensor forward(Tensor h) {
            return F.linear(h, weight.data(), bias.data());
        }
    }

    public Seq2SeqTransformer(Seq2SeqConfig c, Random4j rng) {
        this.config = c;
        emb = register("emb", new Embedding(c.vocabSize(), c.dModel(), c.padId(), rng));
        pos = register("pos", new Embedding(c.maxPositions() + 1, c.dModel(), 0, rng));
        ln = register("ln", new LayerNorm(new int[] {c.dModel()}, 1e-5, true, true));
        TransformerLayerConfig layer = TransformerLayerConfig.of(c.dModel(), c.nhead()).withDimFeedforward(c.dimFeedforward())
                .withDropout(c.dropout()).withBatchFirst(true);
        tf = register("tf", new Transformer(layer, c.numEncoderLayers(), c.numDecoderLayers(), rng));
        head = register("head", new TiedHead(emb.weight, c.vocabSize()));
        try (var g = Grad.disabled()) {
            Init.normal_(emb.weight.data(), 0, 0.02, rng);
            emb.weight.data().narrow(0, c.padId(), 1).zero_();
            Init.normal_(pos.weight.data(), 0, 0.02, rng);
            pos.weight.data().narrow(0, 0, 1).zero_();
        }
    }

    /** True at padding: BOOL (B, L) for ids (B, L). */
    public Tensor paddingMask(Tensor ids) {
        return ids.eq(config.padId());
    }

    /**
     * ln(emb(ids) + pos(positions)): ids I64 (B, L) -> (B, L, d_model); the first id is at position {@code offset + 1}
     * (offset = tokens before it, for incremental decoding); padding ids take position 0.
     */
    public Tensor embed(Tensor ids, int offset) {
        if (ids.dim() != 2) throw new IllegalArgumentException("Seq2SeqTransformer: token ids must be (B, L), got " + Arrays.toString(ids.shape()));
        int l = ids.size(1);
        if (offset + l > config.maxPositions())
            throw new IllegalArgumentException("Seq2SeqTransformer: " + (offset + l) + " positions exceed max_positions " + config.maxPositions()
                    + "; truncate the input (e.g. --max-source-length)");
        Tensor positions = positionRow(ids.device()).narrow(1, offset, l).mul(ids.ne(config.padId()).to(DType.I64));
        return ln.forward(emb.forward(ids).add(pos.forward(positions)));
    }

    /** 1 .. max_positions as I64 (1, max_positions), made once per device: a captured training step uploads nothing. */
    private final Map<Device, Tensor> positionRows = new ConcurrentHashMap<>();

    private Tensor positionRow(Device device) {
        return positionRows.computeIfAbsent(device, d -> Memory.unscoped(() -> Tensor.arange(1, config.maxPositions() + 1, 1, DType.I64)
                .to(d).view(1, config.maxPositions())).keep());
    }

    /** The encoder's memory (B, S, d_model) for source ids (B, S); srcPadding BOOL (B, S) true = padding (or null). */
    public Tensor encode(Tensor inputIds, Tensor srcPadding) {
        return tf.encoder.forward(embed(inputIds, 0), null, srcPadding, false);
    }

    /** Logits (B, T, vocab) for decoder inputs (B, T) over a memory, with the causal mask. */
    public Tensor decode(Tensor decoderInputIds, Tensor memory, Tensor srcPadding) {
        Tensor h = tf.decoder.forward(embed(decoderInputIds, 0), memory, null, null, null, srcPadding, true, false);
        return head.forward(h);
    }

    /** Logits (B, T, vocab): teacher forcing over the whole target. The source padding is taken from the pad id. */
    public Tensor forward(Tensor inputIds, Tensor decoderInputIds) {
        Tensor srcPad = paddingMask(inputIds);
        return decode(decoderInputIds, encode(inputIds, srcPad), srcPad);
    }

    /**
     * One step of incremental decoding: logits (B, L, vocab) of the new tokens (B, L) given the cache of the earlier
     * ones (whose count gives the positions). Use in eval mode.
     */
    public Tensor decodeStep(Tensor tokens, Tensor memory, Tensor srcPadding, KVCache cache) {
        Tensor h = tf.decoder.forwardCached(embed(tokens, cache.length()), memory, srcPadding, cache);
        return head.forward(h);
    }

    public KVCache newCache() {
        return tf.decoder.newCache();
    }

    /** Mean cross-entropy over label positions that are not -100: logits (B, T, V), labels I64 (B, T). */
    public static Tensor loss(Tensor logits, Tensor labels) {
        int v = logits.size(-1);
        return F.crossEntropy(logits.reshape(-1, v), labels.reshape(-1), -100, 0, Reduction.MEAN);
    }
}
