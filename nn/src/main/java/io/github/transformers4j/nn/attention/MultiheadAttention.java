package io.github.transformers4j.nn.attention;

import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.function.Consumer;

/**
 * torch.nn.MultiheadAttention: {@code softmax(Q K^T / sqrt(hd) + mask) V} over {@code numHeads} heads of size
 * {@code hd = embedDim / numHeads}, then an output projection.
 *
 * <p>State dict as PyTorch: {@code in_proj_weight} (3E, E) holding the q, k, v projections row-wise in that order,
 * {@code in_proj_bias} (3E), {@code out_proj.weight} (E, E), {@code out_proj.bias} (E); when kdim or vdim differ from
 * embedDim, {@code q_proj_weight} (E, E), {@code k_proj_weight} (E, kdim), {@code v_proj_weight} (E, vdim) replace
 * in_proj_weight. Initialised as PyTorch: xavier_uniform on the projection weights, zeros on both biases, out_proj.weight
 * as a Linear.
 *
 * <p>Masks: {@code keyPaddingMask} BOOL (B, S), true = padding; {@code attnMask} (L, S) or (B * numHeads, L, S),
 * BOOL with true = masked (the same sense as PyTorch's MultiheadAttention) or float, added to the scores;
 * {@code isCausal} adds the causal mask (query i sees keys j <= i) to whatever attnMask says. A query with no allowed
 * key gets zero weights and a zero attention output (so the result is out_proj.bias), never NaN.
 */
public class MultiheadAttention extends Module implements AttentionForward {
    public final int embedDim, numHeads, headDim, kdim, vdim;
    public final double dropout;
    public final boolean batchFirst;
    /** Packed (3E, E) projection, or null when kdim/vdim differ (then q/k/vProjWeight are used). */
    public final Parameter inProjWeight, qProjWeight, kProjWeight, vProjWeight;
    public final Parameter inProjBias; // null when bias = false
    public final Linear outProj;
    private Random4j rng; // dropout generator; null = Random4j.global()
    private Consumer<Tensor> weightsHook;

    /** PyTorch's defaults: no dropout, biases, sequence-first (L, B, E) inputs. */
    public MultiheadAttention(int embedDim, int numHeads) {
        this(embedDim, numHeads, 0.0, true, false);
    }

    public MultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst) {
        this(embedDim, numHeads, dropout, bias, batchFirst, embedDim, embedDim, Random4j.global());
    }

    public MultiheadAttention(int embedDim, int numHeads, double dropout, boolean bias, boolean batchFirst, int kdim, int vdim, Random4j rng) {
        if (embedDim < 1 || numHeads < 1 || embedDim % numHeads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim " + embedDim + " must be divisible by numHeads " + numHeads);
        }
        if (dropout < 0 || dropout > 1) throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1], got " + dropout);
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = embedDim / numHeads;
        this.kdim = kdim;
        this.vdim = vdim;
        this.dropout = dropout;
        this.batchFirst = batchFirst;
        boolean packed = kdim == embedDim && vdim == embedDim;
        if (packed) {
            inProjWeight = param("in_proj_weight", Tensor.zeros(3 * embedDim, embedDim));
            qProjWeight = kProjWeight = vProjWeight = null;
        } else {
            inProjWeight = null;
            qProjWeight = param("q_proj_weight", Tensor.zeros(embedDim, embedDim));
            kProjWeight = param("k_proj_weight", Tensor.zeros(embedDim, kdim));
            vProjWeight = param("v_proj_weight", Tensor.zeros(embedDim, vdim));
        }
        inProjBias = bias ? param("in_proj_bias", Tensor.zeros(3 * embedDim)) : null;
        outProj = register("out_proj", new Linear(embedDim, embedDim, bias, rng));
        if (packed) {
            Init.xavierUniform_(inProjWeight.data(), 1, rng);
        } else {
            for (Parameter p : new Parameter[] {qProjWeight, kProjWeight, vProjWeight}) Init.xavierUniform_(p.data(), 1, rng);
        }
        if (bias) {
            Init.zeros_(inProjBias.data());
            Init.zeros_(outProj.bias.data());
        }
    }

    /** The generator of attention dropout (default {@link Random4j#global()}). */
    public MultiheadAttention dropoutRng(Random4j rng) {
        this.rng = rng;
        return this;
    }

    /**
     * Calls {@code hook} on every forward with the per-head attention weights (B, H, L, S) (for attention visualisation;
     * the tensor belongs to the caller's memory scope: copy or keep() it to hold on to it). null removes the hook.
     */
    public MultiheadAttention onAttentionWeights(Consumer<Tensor> hook) {
        this.weightsHook = hook;
        return this;
    }

    @Override
    public Attention forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, boolean needWeights, Tensor attnMask,
            boolean averageAttnWeights, boolean isCausal) {
        AttentionInputs in = AttentionInputs.of("MultiheadAttention", query, key, value, keyPaddingMask, attnMask,
                embedDim, kdim, vdim, numHeads, batchFirst);
        boolean self = query == key && key == value;
        SdpaOptions o = new SdpaOptions(in.attnMask(), in.keyPaddingMask(), isCausal, isTraining() ? dropout : 0, null, rng,
                needWeights || weightsHook != null);
        Attention a; // heads merged: (B, L, E)
        if (inProjWeight != null && (self || key == value)) {
            // packed projections: one product for q, k, v (or q, then k and v), F picks the attention kernel
            int e = embedDim;
            Tensor w = inProjWeight.data(), b = inProjBias == null ? null : inProjBias.data();
            a = self ? F.multiHeadAttention(F.linear(in.query(), w, b), null, numHeads, o)
                    : F.multiHeadAttention(F.linear(in.query(), w.narrow(0, 0, e), b == null ? null : b.narrow(0, 0, e)),
                            F.linear(in.key(), w.narrow(0, e, 2 * e), b == null ? null : b.narrow(0, e, 2 * e)), numHeads, o);
        } else {
            Tensor[] qkv = project(in.query(), in.key(), in.value(), false, false);
            Attention h = F.scaledDotProductAttention(AttentionInputs.splitHeads(qkv[0], numHeads), AttentionInputs.splitHeads(qkv[1], numHeads),
                    AttentionInputs.splitHeads(qkv[2], numHeads), o);
            a = new Attention(AttentionInputs.mergeHeads(h.output()), h.weights());
        }
        if (weightsHook != null) weightsHook.accept(a.weights());
        Tensor out = outProj.forward(a.output());
        Tensor w = needWeights ? (averageAttnWeights ? a.weights().mean(1, false) : a.weights()) : null;
        return new Attention(in.outputLayout(out, batchFirst), in.weightsLayout(w));
    }

    // ------------------------------------------------------------------ pieces for incremental (cached) decoding

    /** Self-attention projections of a batch-first x (B, L, E), split into heads: q, k, v each (B, H, L, hd). */
    public Tensor[] selfProjections(Tensor x) {
        checkBatchFirstInput("selfProjections", x, embedDim);
        Tensor[] qkv = project(x, x, x, true, true);
        return new Tensor[] {AttentionInputs.splitHeads(qkv[0], numHeads), AttentionInputs.splitHeads(qkv[1], numHeads),
                AttentionInputs.splitHeads(qkv[2], numHeads)};
    }

    /** The query projection of a batch-first x (B, L, E), split into heads: (B, H, L, hd). */
    public Tensor queryProjection(Tensor x) {
        checkBatchFirstInput("queryProjection", x, embedDim);
        Tensor b = inProjBias == null ? null : inProjBias.data().narrow(0, 0, embedDim);
        Tensor w = inProjWeight == null ? qProjWeight.data() : inProjWeight.data().narrow(0, 0, embedDim);
        return AttentionInputs.splitHeads(F.linear(x, w, b), numHeads);
    }

    /** Key and value projections of a batch-first key/value input (B, S, kdim), split into heads: k, v each (B, H, S, hd). */
    public Tensor[] keyValueProjections(Tensor kv) {
        checkBatchFirstInput("keyValueProjections", kv, kdim);
        Tensor[] qkv = project(kv, kv, kv, false, true);
        return new Tensor[] {AttentionInputs.splitHeads(qkv[1], numHeads), AttentionInputs.splitHeads(qkv[2], numHeads)};
    }

    /**
     * Attention of projected queries q (B, H, L, hd) over projected keys and values (B, H, S, hd) (e.g. cached ones), then
     * the output projection: (B, L, E) batch-first. Dropout on the weights applies in training mode, as in forward.
     *
     * @param keyPaddingMask BOOL (B, S), true = padding, or null
     * @param attnMask BOOL (L, S), true = masked (as forward's), or float (added), or null
     */
    public Tensor attendHeads(Tensor q, Tensor k, Tensor v, Tensor keyPaddingMask, Tensor attnMask) {
        Tensor allowed = attnMask == null || attnMask.dtype() != DType.BOOL ? attnMask : attnMask.logicalNot();
        Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(allowed, keyPaddingMask, false, isTraining() ? dropout : 0,
                null, rng, weightsHook != null));
        if (weightsHook != null) weightsHook.accept(a.weights());
        return outProj.forward(AttentionInputs.mergeHeads(a.output()));
    }

    private static void checkBatchFirstInput(String op, Tensor x, int features) {
        if (x.dim() != 3 || x.size(2) != features) {
            throw new IllegalArgumentException("MultiheadAttention." + op + ": expected a batch-first (B, L, " + features + ") input, got "
                    + AttentionInputs.str(x));
        }
    }

    /** Batch-first q, k, v projections (B, L|S, E); one product for self-attention, as PyTorch's packed path. */
    private Tensor[] project(Tensor query, Tensor key, Tensor value, boolean self, boolean kvSame) {
        int e = embedDim;
        Tensor b = inProjBias == null ? null : inProjBias.data();
        Tensor bq = b == null ? null : b.narrow(0, 0, e), bk = b == null ? null : b.narrow(0, e, e), bv = b == null ? null : b.narrow(0, 2 * e, e);
        if (inProjWeight == null) {
            return new Tensor[] {F.linear(query, qProjWeight.data(), bq), F.linear(key, kProjWeight.data(), bk), F.linear(value, vProjWeight.data(), bv)};
        }
        Tensor w = inProjWeight.data();
        if (self) return F.linear(query, w, b).chunk(3, -1).toArray(Tensor[]::new);
        Tensor q = F.linear(query, w.narrow(0, 0, e), bq);
        if (kvSame) {
            Tensor[] kv = F.linear(key, w.narrow(0, e, 2 * e), b == null ? null : b.narrow(0, e, 2 * e)).chunk(2, -1).toArray(Tensor[]::new);
            return new Tensor[] {q, kv[0], kv[1]};
        }
        return new Tensor[] {q, F.linear(key, w.narrow(0, e, e), bk), F.linear(value, w.narrow(0, 2 * e, e), bv)};
    }
}
