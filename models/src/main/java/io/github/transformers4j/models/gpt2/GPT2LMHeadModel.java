package io.github.transformers4j.models.gpt2;

import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.transformer.KVCache;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * Hugging Face's {@code GPT2LMHeadModel}: {@code transformer} (a {@link GPT2Model}) and {@code lm_head}, whose weight is
 * the token-embedding table (tied, stored once as {@code transformer.wte.weight}). Logits (B, L, vocab).
 */
public class GPT2LMHeadModel extends Module {
    public final GPT2Model transformer;

    public GPT2LMHeadModel(GPT2Config c, Random4j rng) {
        transformer = register("transformer", new GPT2Model(c, rng));
    }

    /** {@code from_pretrained}: a Hugging Face model folder (config.json, model.safetensors or shards), in eval mode; see {@link HfModels}. */
    public static GPT2LMHeadModel fromPretrained(java.nio.file.Path dir) {
        return HfModels.gpt2LMHeadModel(dir);
    }

    /** {@code save_pretrained}: config.json and model.safetensors that transformers loads. */
    public void savePretrained(java.nio.file.Path dir) {
        HfModels.savePretrained(this, dir, null);
    }


    public GPT2Config config() {
        return transformer.config;
    }

    /** As {@link GPT2Model#forward}, with logits (B, L, vocab). */
    public ModelOutput forward(Tensor inputIds, Tensor attentionMask, KVCache cache, ModelOutput.Want want) {
        ModelOutput o = transformer.forward(inputIds, attentionMask, cache, want);
        return o.withLogits(F.linear(o.lastHiddenState(), transformer.wte.weight.data(), null));
    }
}
