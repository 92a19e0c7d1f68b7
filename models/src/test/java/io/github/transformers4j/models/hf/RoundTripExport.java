package io.github.transformers4j.models.hf;

import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertForSequenceClassification;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.vit.ViTForImageClassification;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Not a test: writes models fine-tuned here (30 AdamW steps on random data) with {@code save_pretrained}'s layout, plus
 * their inputs and our logits, for {@code tools/fixtures/check_hf_roundtrip.py} to load in transformers and compare.
 * Usage: {@code RoundTripExport OUT_DIR} -> OUT_DIR/{bert-cls,gpt2,vit-cls}/ and OUT_DIR/<name>.ours.safetensors.
 */
public final class RoundTripExport {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Random4j rng = new Random4j(2026);
        var bert = new BertForSequenceClassification(HfModelsTest.BERT.withDropout(0.1, 0.1), List.of("neg", "pos", "mixed"), null, rng);
        Tensor ids = HfModelsTest.ids(4, 10, 50, 1), mask = Tensor.ones(4, 10), labels = Tensor.ofLongs(new long[] {0, 1, 2, 1}, 4);
        fineTune(bert, () -> F.crossEntropy(bert.forward(ids, mask, null, ModelOutput.Want.NONE).logits(), labels));
        save(out, "bert-cls", bert, Map.of("input_ids", ids, "attention_mask", mask), bert.forward(ids, mask, null, ModelOutput.Want.NONE).logits());

        var gpt2 = new GPT2LMHeadModel(HfModelsTest.GPT2, rng);
        Tensor text = HfModelsTest.ids(2, 12, 60, 2);
        fineTune(gpt2, () -> {
            Tensor logits = gpt2.forward(text.narrow(1, 0, 11).contiguous(), null, null, ModelOutput.Want.NONE).logits();
            return F.crossEntropy(logits.reshape(-1, 60), text.narrow(1, 1, 11).contiguous().reshape(-1));
        });
        save(out, "gpt2", gpt2, Map.of("input_ids", text), gpt2.forward(text, null, null, ModelOutput.Want.NONE).logits());

        var vit = new ViTForImageClassification(HfModelsTest.VIT, List.of("cat", "dog"), rng);
        Tensor px = Tensor.randn(rng, 3, 3, 16, 16), y = Tensor.ofLongs(new long[] {0, 1, 1}, 3);
        fineTune(vit, () -> F.crossEntropy(vit.forward(px, ModelOutput.Want.NONE).logits(), y));
        save(out, "vit-cls", vit, Map.of("pixel_values", px), vit.forward(px, ModelOutput.Want.NONE).logits());
    }

    static void fineTune(Module m, Supplier<Tensor> loss) {
        m.train();
        var opt = new AdamW(m, AdamW.options(1e-3));
        for (int i = 0; i < 30; i++) {
            opt.zeroGrad();
            Tensor l = loss.get();
            l.backward();
            opt.step();
            if (i % 10 == 0 || i == 29) System.out.printf("%s step %d loss %.4f%n", m.getClass().getSimpleName(), i, l.item());
        }
        m.eval();
    }

    static void save(Path out, String name, Module m, Map<String, Tensor> inputs, Tensor logits) throws Exception {
        HfModels.savePretrained(m, out.resolve(name), null);
        var t = new java.util.LinkedHashMap<String, Tensor>();
        inputs.forEach((k, v) -> t.put("input." + k, v));
        t.put("output.logits", logits);
        SafeTensors.save(out.resolve(name + ".ours.safetensors"), t, Map.of("architecture", m.getClass().getSimpleName()));
    }
}
