package io.github.transformers4j.nn.transformer;

import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * torch.nn.Transformer: an encoder stack and a decoder stack, each ending with a LayerNorm ({@code encoder.norm},
 * {@code decoder.norm}); every weight with more than one dim re-initialised with xavier_uniform, as PyTorch does.
 *
 * <p>Shapes: (B, L, d_model) when batchFirst, else (L, B, d_model), or unbatched (L, d_model). Masks as PyTorch's:
 * {@code *Mask} BOOL with {@code true} = NOT allowed to attend, or float, added to the scores, src (S, S), tgt (T, T), memory (T, S),
 * or per head (B * nhead, ., .); {@code *KeyPaddingMask} BOOL (B, S) / (B, T), {@code true} = padding; {@code *IsCausal} adds the causal mask.
 * Positional overloads follow PyTorch's argument order; {@link TransformerMasks} names them.
 */
public class Transformer extends Module {
    public final TransformerLayerConfig config;
    public final TransformerEncoder encoder;
    public final TransformerDecoder decoder;

    public Transformer(TransformerLayerConfig config, int numEncoderLayers, int numDecoderLayers) {
        this(config, numEncoderLayers, numDecoderLayers, Random4j.global());
    }

    public Transformer(TransformerLayerConfig c, int numEncoderLayers, int numDecoderLayers, Random4j rng) {
        this.config = c;
        encoder = register("encoder", new TransformerEncoder(() -> new TransformerEncoderLayer(c, rng), numEncoderLayers, newNorm(c)));
        decoder = register("decoder", new TransformerDecoder(() -> new TransformerDecoderLayer(c, rng), numDecoderLayers, newNorm(c)));
        for (Parameter p : parameters()) if (p.shape().length > 1) Init.xavierUniform_(p.data(), 1, rng);
    }

    private static LayerNorm newNorm(TransformerLayerConfig c) {
        return new LayerNorm(new int[] {c.dModel()}, c.layerNormEps(), true, c.bias());
    }

    public Tensor forward(Tensor src, Tensor tgt) {
        return forward(src, tgt, null, null, null, null, null, null, false, false, false);
    }

    /** PyTorch's {@code transformer(src, tgt, src_mask, tgt_mask)}. */
    public Tensor forward(Tensor src, Tensor tgt, Tensor srcMask, Tensor tgtMask) {
        return forward(src, tgt, srcMask, tgtMask, null, null, null, null, false, false, false);
    }

    /**
     * The named form, as {@code transformer(src, tgt, tgt_mask=m, src_key_padding_mask=p)} in Python:
     * {@code forward(src, tgt, TransformerMasks.builder().tgtMask(m).srcKeyPaddingMask(p).build())}.
     */
    public Tensor forward(Tensor src, Tensor tgt, TransformerMasks m) {
        return forward(src, tgt, m.srcMask(), m.tgtMask(), m.memoryMask(), m.srcKeyPaddingMask(), m.tgtKeyPaddingMask(),
                m.memoryKeyPaddingMask(), m.srcIsCausal(), m.tgtIsCausal(), m.memoryIsCausal());
    }

    /**
     * @param src (B, S, d_model) if batchFirst else (S, B, d_model)
     * @param tgt (B, T, d_model) / (T, B, d_model)
     * @param srcMask (S, S), tgtMask (T, T), memoryMask (T, S): BOOL true = masked, or float additive; or null
     * @param srcKeyPaddingMask (B, S), tgtKeyPaddingMask (B, T), memoryKeyPaddingMask (B, S): BOOL true = padding; or null
     * @return the decoder output, shaped like tgt
     */
    public Tensor forward(Tensor src, Tensor tgt, Tensor srcMask, Tensor tgtMask, Tensor memoryMask, Tensor srcKeyPaddingMask,
            Tensor tgtKeyPaddingMask, Tensor memoryKeyPaddingMask, boolean srcIsCausal, boolean tgtIsCausal, boolean memoryIsCausal) {
        int batchDim = config.batchFirst() ? 0 : 1;
        if (src.dim() == 3 && tgt.dim() == 3 && src.size(batchDim) != tgt.size(batchDim)) {
            throw new IllegalArgumentException("Transformer: the batch sizes of src " + Arrays.toString(src.shape()) + " and tgt "
                    + Arrays.toString(tgt.shape()) + " differ (batchFirst " + config.batchFirst() + ")");
        }
        if (src.size(-1) != config.dModel() || tgt.size(-1) != config.dModel()) {
            throw new IllegalArgumentException("Transformer: src " + Arrays.toString(src.shape()) + " and tgt " + Arrays.toString(tgt.shape())
                    + " must have d_model = " + config.dModel() + " features");
        }
        Tensor memory = encoder.forward(src, srcMask, srcKeyPaddingMask, srcIsCausal);
        return decoder.forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
    }

    /** PyTorch's causal mask: F32 (sz, sz), 0 on and below the diagonal, -inf above (additive). */
    public static Tensor generateSquareSubsequentMask(int sz) {
        return generateSquareSubsequentMask(sz, DType.F32);
    }

    public static Tensor generateSquareSubsequentMask(int sz, DType dtype) {
        double[] m = new double[sz * sz];
        for (int i = 0; i < sz; i++) for (int j = i + 1; j < sz; j++) m[i * sz + j] = Double.NEGATIVE_INFINITY;
        return Tensor.of(m, sz, sz).to(dtype);
    }
}
