package io.github.transformers4j.models.gpt2;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.Dropout;
import io.github.transformers4j.nn.Embedding;
import io.github.transformers4j.nn.LayerNorm;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.ModuleList;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.nn.transformer.KVCache;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * GPT-2 (Radford et al. 2019) with Hugging Face's module structure and state-dict keys ({@code wte}, {@code wpe},
 * {@code h.i.attn.c_attn}, {@code ln_f}), so a transformers checkpoint loads key for key:
 * <pre>
 * x = drop(wte[ids] + wpe[past .. past + L))
 * h.i:  x = x + attn(ln_1(x))     causal self-attention, c_attn (d -> 3d: q | k | v), c_proj, resid dropout
 *       x = x + mlp(ln_2(x))      c_fc (d -> inner), gelu_new, c_proj (inner -> d), dropout
 * ln_f(x)
 * </pre>
 * With a {@link KVCache} each call appends its keys and values, and positions continue from the cached length
 * (incremental decoding). Weights start N(0, 0.02^2), the residual projections N(0, (0.02 / sqrt(2 n_layer))^2), as
 * GPT-2's {@code _init_weights}.
 */
public class GPT2Model extends Module {
    public final GPT2Config config;
    public final Embedding wte, wpe;
    public final Dropout drop;
    public final ModuleList<Block> h;
    public final LayerNorm lnF;

    public GPT2Model(GPT2Config c, Random4j rng) {
        this.config = c;
        wte = register("wte", new Embedding(c.vocabSize(), c.nEmbd(), null, rng));
        wpe = register("wpe", new Embedding(c.nPositions(), c.nEmbd(), null, rng));
        Init.normal_(wte.weight.data(), 0, c.initializerRange(), rng);
        Init.normal_(wpe.weight.data(), 0, c.initializerRange(), rng);
        drop = register("drop", new Dropout(c.embdPdrop(), rng));
        h = register("h", new ModuleList<>());
        for (int i = 0; i < c.nLayer(); i++) h.add(new Block(c, i, rng));
        lnF = register("ln_f", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static GPT2Model fromPretrained(java.nio.file.Path dir) {
        return HfModels.gpt2Model(dir);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    public KVCache newCache() {
        return new KVCache(config.nLayer());
    }

    /**
     * @param inputIds      I64 (B, L)
     * @param attentionMask (B, past + L) or null: 1 = token, 0 = padding (HF's attention_mask)
     * @param cache         null, or the keys and values of the {@code past} tokens before these; this call appends its own
     * @return the last hidden state (after ln_f) and, on request, hidden states (embeddings, blocks 0 .. n-2, then the last
     *     block's output after ln_f, as transformers) and attention weights (B, H, L, past + L)
     */
    public ModelOutput forward(Tensor inputIds, Tensor attentionMask, KVCache cache, ModelOutput.Want want) {
        if (inputIds.dim() != 2) throw new IllegalArgumentException("GPT2Model: expected input_ids (B, L), got " + Arrays.toString(inputIds.shape()));
        int b = inputIds.size(0), l = inputIds.size(1), past = cache == null ? 0 : cache.length();
        if (past + l > config.nPositions())
            throw new IllegalArgumentException("GPT2Model: " + (past + l) + " positions, but the model has " + config.nPositions());
        Tensor padding = null;
        if (attentionMask != null) {
            if (attentionMask.dim() != 2 || attentionMask.size(0) != b || attentionMask.size(1) != past + l)
                throw new IllegalArgumentException("GPT2Model: attention_mask must be (B, past + L) = [" + b + ", " + (past + l) + "], got "
                        + Arrays.toString(attentionMask.shape()));
            padding = attentionMask.dtype() == DType.BOOL ? attentionMask.logicalNot() : attentionMask.eq(0);
        }
        Tensor x = drop.forward(wte.forward(inputIds).add(wpe.weight.data().narrow(0, past, l)));
        List<Tensor> hidden = want.hiddenStates() ? new ArrayList<>() : null;
        List<Tensor> attentions = want.attentions() ? new ArrayList<>() : null;
        for (Block blk : h) {
            if (hidden != null) hidden.add(x);
            Attention a = blk.forward(x, padding, cache == null ? null : cache.layer(blk.attn.layerIdx), want.attentions());
            x = a.output();
            if (attentions != null) attentions.add(a.weights());
        }
        x = lnF.forward(x);
        if (hidden != null) hidden.add(x);
        return new ModelOutput(x, null, hidden, attentions, null);
    }

    /** {@code GPT2Block}: pre-norm attention and MLP, each added to the residual stream. */
    public static class Block extends Module {
        public final LayerNorm ln1, ln2;
        public final SelfAttention attn;
        public final MLP mlp;

        Block(GPT2Config c, int layerIdx, Random4j rng) {
            ln1 = register("ln_1", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
            attn = register("attn", new SelfAttention(c, layerIdx, rng));
            ln2 = register("ln_2", new LayerNorm(c.nEmbd(), c.layerNormEpsilon()));
            mlp = register("mlp", new MLP(c, rng));
        }

        public Attention forward(Tensor x, Tensor padding, KVCache.Layer cache, boolean needWeights) {
            Attention a = attn.forward(ln1.forward(x), padding, cache, needWeights);
            x = x.add(a.output());
            return new Attention(x.add(mlp.forward(ln2.forward(x))), a.weights());
        }
    }

    /** {@code GPT2Attention}: causal multi-head self-attention with a packed q | k | v projection. */
    public static class SelfAttention extends Module {
        public final Conv1D cAttn, cProj;
        public final Dropout residDropout;
        final int heads, layerIdx;
        final double scale, attnPdrop;
        private final Random4j rng;

        SelfAttention(GPT2Config c, int layerIdx, Random4j rng) {
            int d = c.nEmbd();
            this.heads = c.nHead();
            this.layerIdx = layerIdx;
            this.scale = (c.scaleAttnWeights() ? 1 / Math.sqrt(c.headDim()) : 1) / (c.scaleAttnByInverseLayerIdx() ? layerIdx + 1 : 1);
            this.attnPdrop = c.attnPdrop();
            this.rng = rng;
            cAttn = register("c_attn", new Conv1D(3 * d, d, c.initializerRange(), rng));
            cProj = register("c_proj", new Conv1D(d, d, c.initializerRange() / Math.sqrt(2 * c.nLayer()), rng));
            residDropout = register("resid_dropout", new Dropout(c.residPdrop(), rng));
        }

        /** x (B, L, d); padding BOOL (B, past + L) or null -> (B, L, d) and, on request, weights (B, H, L, past + L). */
        public Attention forward(Tensor x, Tensor padding, KVCache.Layer cache, boolean needWeights) {
            int b = x.size(0), l = x.size(1), d = x.size(2), e = d / heads;
            Tensor qkv = cAttn.forward(x); // (B, L, 3d)
            Tensor q = qkv.narrow(2, 0, d).view(b, l, heads, e).transpose(1, 2); // (B, H, L, e)
            Tensor k = qkv.narrow(2, d, d).view(b, l, heads, e).transpose(1, 2);
            Tensor v = qkv.narrow(2, 2 * d, d).view(b, l, heads, e).transpose(1, 2);
            int past = 0;
            if (cache != null) {
                past = cache.length();
                cache.appendSelf(k, v);
                k = cache.selfKey();
                v = cache.selfValue();
            }
            // query i (absolute position past + i) sees keys j <= past + i: rows past .. past + L of the square causal mask
            Tensor allowed = past == 0 || l == 1 ? null : F.causalMask(past + l, past + l, x.device()).narrow(0, past, l).logicalNot();
            Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(allowed, padding, past == 0, isTraining() ? attnPdrop : 0,
                    scale, rng, needWeights));
            Tensor o = a.output().transpose(1, 2).reshape(b, l, d);
            return new Attention(residDropout.forward(cProj.forward(o)), a.weights());
        }
    }

    /** {@code GPT2MLP}: c_fc, activation, c_proj, dropout. */
    public static class MLP extends Module {
        public final Conv1D cFc, cProj;
        public final Dropout dropout;
        private final io.github.transformers4j.nn.Activation act;

        MLP(GPT2Config c, Random4j rng) {
            cFc = register("c_fc", new Conv1D(c.nInner(), c.nEmbd(), c.initializerRange(), rng));
            cProj = register("c_proj", new Conv1D(c.nEmbd(), c.nInner(), c.initializerRange() / Math.sqrt(2 * c.nLayer()), rng));
            dropout = register("dropout", new Dropout(c.residPdrop(), rng));
            act = c.activationFunction();
        }

        public Tensor forward(Tensor x) {
            return dropout.forward(cProj.forward(act.apply(cFc.forward(x))));
        }
    }
}
