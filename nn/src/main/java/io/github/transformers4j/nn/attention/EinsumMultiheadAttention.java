package io.github.transformers4j.nn.attention;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Multi-head attention written with ONE packed projection tensor contracted by einsum, the formulation of the
 * attention papers ({@code Q_h = X W^Q_h}):
 * <pre>
 *   qkv = einsum("bld,tdhe->tbhle", x, qkv_weight) + qkv_bias      qkv_weight (3, D, H, E), qkv_bias (3, H, E)
 *   o   = softmax(q k^T / sqrt(E) + mask) v                         (B, H, L, E) per head
 *   out = einsum("bhle,hed->bld", o, out_weight) + out_bias         out_weight (H, E, D), out_bias (D)
 * </pre>
 * Same arguments, masks and results as {@link MultiheadAttention}; {@link #copyFrom(MultiheadAttention)} takes an MHA's
 * weights ({@code qkv_weight[t, d, h, e] = in_proj_weight[t*D + h*E + e, d]}, {@code out_weight[h, e, d] =
 * out_proj.weight[d, h*E + e]}), after which both give the same outputs. A new instance starts with exactly the weights a
 * {@link MultiheadAttention} built from the same generator state would have.
 */
public class EinsumMultiheadAttention extends Module implements AttentionForward {
    public final int embedDim, numHeads, headDim;
    public final double dropout;
    public final boolean batchFirst;
    public final Parameter qkvWeight, outWeight;
    public final Parameter qkvBias, outBias; // null when bias = false
    private Random4j rng;

    public EinsumMultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst) {
        this(embedDim, numHeads, dropout, bias, batchFirst, Random4j.global());
    }

    public EinsumMultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst, Random4j rng) {
        MultiheadAttention init = new MultiheadAttention(embedDim, numHeads, dropout, bias, batchFirst, embedDim, embedDim, rng);
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = init.headDim;
        this.dropout = dropout;
        this.batchFirst = batchFirst;
        qkvWeight = param("qkv_weight", Tensor.zeros(3, embedDim, numHeads, headDim));
        qkvBias = bias ? param("qkv_bias", Tensor.zeros(3, numHeads, headDim)) : null;
        outWeight = param("out_weight", Tensor.zeros(numHeads, headDim, embedDim));
        outBias = bias ? param("out_bias", Tensor.zeros(embedDim)) : null;
        copyFrom(init);
    }

    /** An einsum attention holding {@code mha}'s weights (and its dtype). */
    public static EinsumMultiheadAttention from(MultiheadAttention mha) {
        var e = new EinsumMultiheadAttention(mha.embedDim, mha.numHeads, mha.dropout, mha.inProjBias != null, mha.batchFirst, new Random4j(0));
        e.to(mha.inProjWeight.data().dtype());
        return e.copyFrom(mha);
    }

    /** Rearranges an MHA's packed weights into this module's einsum layout (in place, no autograd). */
    public EinsumMultiheadAttention copyFrom(MultiheadAttention mha) {
        if (mha.embedDim != embedDim || mha.numHeads != numHeads || mha.inProjWeight == null || (mha.inProjBias == null) != (qkvBias == null)) {
            throw new IllegalArgumentException("EinsumMultiheadAttention(" + embedDim + ", " + numHeads + ", bias " + (qkvBias != null)
                    + ") cannot take the weights of MultiheadAttention(" + mha.embedDim + ", " + mha.numHeads + ", bias " + (mha.inProjBias != null)
                    + (mha.inProjWeight == null ? ", separate kdim/vdim projections" : "") + ")");
        }
        int d = embedDim, h = numHeads, e = headDim;
        try (var g = Grad.disabled()) {
            qkvWeight.data().copy_(mha.inProjWeight.data().view(3, h, e, d).permute(0, 3, 1, 2));
            outWeight.data().copy_(mha.outProj.weight.data().view(d, h, e).permute(1, 2, 0));
            if (qkvBias != null) {
                qkvBias.data().copy_(mha.inProjBias.data().view(3, h, e));
                outBias.data().copy_(mha.outProj.bias.data());
            }
        }
        return this;
    }

    public EinsumMultiheadAttention dropoutRng(Random4j rng) {
        this.rng = rng;
        return this;
    }

    /** As {@link MultiheadAttention#forward(Tensor, Tensor, Tensor, Tensor, boolean, Tensor, boolean, boolean)}. */
    @Override
    public Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask,
            boolean averageAttnWeights, boolean isCausal) {
        AttentionInputs in = AttentionInputs.of("EinsumMultiheadAttention", query, key, value, keyPaddingMask, attnMask,
                embedDim, embedDim, embedDim, numHeads, batchFirst);
        Tensor w = qkvWeight.data();
        Tensor q, k, v;
        if (query == key && key == value) {
            Tensor qkv = Tensor.einsum("bld,tdhe->tbhle", in.query(), w); // (3, B, H, L, E)
            if (qkvBias != null) qkv = qkv.add(qkvBias.data().view(3, 1, numHeads, 1, headDim));
            q = qkv.select(0, 0);
            k = qkv.select(0, 1);
            v = qkv.select(0, 2);
        } else {
            q = project(in.query(), 0);
            k = project(in.key(), 1);
            v = project(in.value(), 2);
        }
        Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(in.attnMask(), in.keyPaddingMask(), isCausal,
                isTraining() ? dropout : 0, null, rng, needWeights));
        Tensor out = Tensor.einsum("bhle,hed->bld", a.output(), outWeight.data());
        if (outBias != null) out = out.add(outBias.data());
        Tensor weights = needWeights ? (averageAttnWeights ? a.weights().mean(1, false) : a.weights()) : null;
        return new Attention(in.outputLayout(out, batchFirst), in.weightsLayout(weights));
    }

    /** Projection t (0 = q, 1 = k, 2 = v) of x (B, L, D) into heads (B, H, L, E). */
    private Tensor project(Tensor x, int t) {
        Tensor y = Tensor.einsum("bld,dhe->bhle", x, qkvWeight.data().select(0, t));
        return qkvBias == null ? y : y.add(qkvBias.data().select(0, t).view(1, numHeads, 1, headDim));
    }
}
