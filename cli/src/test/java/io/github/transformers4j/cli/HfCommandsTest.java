package io.github.transformers4j.cli;

import static io.github.transformers4j.cli.T4jTest.t4j;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.text.tokenizer.BpeTrainer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertForMaskedLM;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Config;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code t4j generate} and {@code t4j fill-mask} on small random-weight folders in Hugging Face's layout. */
class HfCommandsTest {
    @TempDir
    Path dir;

    Path gpt2Folder() {
        BpeTrainer t = new BpeTrainer(3 + 256 + 40, 1);
        List.of("the cat sat on the mat", "the dog sat on the log", "a cat and a dog").forEach(t::feed);
        Tokenizer tok = t.train();
        Path d = dir.resolve("gpt2");
        GPT2Config c = new GPT2Config(tok.vocabSize(), 64, 16, 2, 4, 64, Activation.GELU_TANH, 0, 0, 0, 1e-5, 0.02, true, false, 1, 1);
        HfModels.savePretrained(new GPT2LMHeadModel(c, new Random4j(1)), d, null);
        tok.save(d.resolve("tokenizer.json"));
        return d;
    }

    @Test
    void generateContinuesThePromptGreedilyOrBySamplingWithASeed() {
        Path d = gpt2Folder();
        var greedy = t4j("generate", "--hf", d.toString(), "--max-new-tokens", "6", "the cat");
        assertThat(greedy.code()).as(greedy.err()).isZero();
        assertThat(greedy.out().strip()).startsWith("the cat");
        assertThat(greedy.out().strip().length()).isGreaterThan("the cat".length());
        var a = t4j("generate", "--hf", d.toString(), "--max-new-tokens", "8", "--do-sample", "--top-p", "0.9", "--seed", "7", "the dog", "a cat");
        var b = t4j("generate", "--hf", d.toString(), "--max-new-tokens", "8", "--do-sample", "--top-p", "0.9", "--seed", "7", "the dog", "a cat");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
        assertThat(a.out().lines().toList()).hasSize(2);
        var beam = t4j("generate", "--hf", d.toString(), "--max-new-tokens", "5", "--num-beams", "3", "the");
        assertThat(beam.code()).as(beam.err()).isZero();
        var bad = t4j("generate", "--hf", d.toString(), "--temperature", "0", "x");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("temperature");
        assertThat(t4j("generate", "--hf", d.toString(), "--max-new-tokens", "0", "x").err()).contains("--max-new-tokens must be >= 1");
        var missing = t4j("generate", "--hf", dir.resolve("nope").toString(), "x");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("nope");
    }

    @Test
    void fillMaskListsTheTopTokensForEachMask() throws Exception {
        Path d = dir.resolve("bert");
        List<String> vocab = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "capital", "of", "france", "is", "paris", "a", "city", ".");
        Files.createDirectories(d);
        Files.write(d.resolve("vocab.txt"), vocab);
        BertConfig c = new BertConfig(vocab.size(), 16, 2, 4, 32, Activation.GELU, 0, 0, 32, 2, 1e-12, 0.02, 0);
        HfModels.savePretrained(new BertForMaskedLM(c, new Random4j(2)), d, null);
        var r = t4j("fill-mask", "--hf", d.toString(), "--top-k", "3", "The capital of France is [MASK].");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(1)).contains("%").contains("the capital of france is");
        var j = t4j("fill-mask", "--hf", d.toString(), "--json", "[MASK] is a [MASK].");
        assertThat(j.code()).as(j.err()).isZero();
        var nodes = new com.fasterxml.jackson.databind.ObjectMapper().readTree(j.out());
        assertThat(nodes.size()).isEqualTo(2); // two masks
        assertThat(nodes.get(0).size()).isEqualTo(5);
        double sum = 0;
        for (var n : nodes.get(0)) sum += n.get("score").asDouble();
        assertThat(sum).isLessThanOrEqualTo(1.0 + 1e-6);
        var none = t4j("fill-mask", "--hf", d.toString(), "no mask here");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("no mask token");
    }

    @Test
    void aHuggingFaceVitFineTunesOnAnImageFolderAndExportsForTransformers() throws Exception {
        Path data = dir.resolve("icons"), run = dir.resolve("run"), vitDir = dir.resolve("vit"), exported = dir.resolve("exported");
        ImageFolderTrainTest.icons(data.resolve("train"), 40, 1);
        ImageFolderTrainTest.icons(data.resolve("test"), 10, 2);
        // a "pretrained" ViT folder: 24x24 input (the 16x16 icons are resized to it), 5 labels of another task
        var c = new io.github.transformers4j.models.vit.ViTModel.Config(16, 2, 4, 32, Activation.GELU, 0, 0, 0.02, 1e-12, 24, 8, 3, true);
        var pretrained = new io.github.transformers4j.models.vit.ViTForImageClassification(c, List.of("a", "b", "c", "d", "e"), new Random4j(3));
        HfModels.savePretrained(pretrained, vitDir, null);
        Files.writeString(vitDir.resolve("preprocessor_config.json"), """
                {"do_resize": true, "size": {"height": 24, "width": 24}, "resample": 2, "do_rescale": true, "rescale_factor": 0.00392156862745098,
                 "do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_processor_type": "ViTImageProcessor"}
                """);
        var r = t4j("train", "--init-from", "hf:" + vitDir, "--dataset", "imagefolder:" + data, "--epochs", "1", "--batch-size", "20",
                "--out", run.toString(), "--no-progress", "--workers", "0");
        assertThat(r.code()).as(r.err() + r.out()).isZero();
        assertThat(r.out()).contains("init: weights from the Hugging Face folder", "classifier.weight", "3 classes, 3x24x24");
        var e = t4j("export", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--hf-out", exported.toString());
        assertThat(e.code()).as(e.err()).isZero();
        var back = HfModels.vitForImageClassification(exported, null);
        assertThat(back.labels).containsExactly("diagonal", "horizontal", "vertical");
        assertThat(exported.resolve("preprocessor_config.json")).exists();
        // the encoder moved away from the pretrained weights, and the export is the run's best checkpoint
        assertThat(back.vit.layers.get(0).intermediateDense.weight.data().toFloatArray())
                .isNotEqualTo(pretrained.vit.layers.get(0).intermediateDense.weight.data().toFloatArray());
        var loaded = io.github.transformers4j.recipes.VisionRecipe.load(run.resolve("checkpoints/best.safetensors"), io.github.transformers4j.tensor.Device.CPU);
        Tensor px = Tensor.randn(new Random4j(4), 2, 3, 24, 24);
        assertThat(back.forward(px, io.github.transformers4j.models.ModelOutput.Want.NONE).logits().toFloatArray())
                .containsExactly(loaded.model().forward(px).toFloatArray());
        var notHf = t4j("train", "--init-from", "hf:" + vitDir, "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data);
        assertThat(notHf.code()).isEqualTo(2);
        assertThat(notHf.err()).contains("leave --model out");
    }

    @Test
    void aHuggingFaceBertFineTunesOnLabelledTextsAndExportsForTransformers() throws Exception {
        Path bert = dir.resolve("bert"), data = dir.resolve("texts"), run = dir.resolve("run"), exported = dir.resolve("exported");
        List<String> vocab = List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "great", "fine", "bad", "awful", "poor", "movie",
                "film", "the", "a", "was", "is", "very");
        Files.createDirectories(bert);
        Files.write(bert.resolve("vocab.txt"), vocab);
        // a random "pretrained" encoder, initialised wider than BERT's 0.02 so that a few epochs can move it
        BertConfig c = new BertConfig(vocab.size(), 16, 2, 4, 32, Activation.GELU, 0.1, 0.1, 32, 2, 1e-12, 0.3, 0);
        HfModels.savePretrained(new BertModel(c, true, new Random4j(5)), bert, null);
        Files.createDirectories(data);
        java.util.Random r = new java.util.Random(1);
        String[] pos = {"good", "great", "fine"}, neg = {"bad", "awful", "poor"};
        for (String split : List.of("train", "validation", "test")) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < (split.equals("train") ? 120 : 30); i++) {
                boolean p = r.nextBoolean();
                String w = (p ? pos : neg)[r.nextInt(3)];
                sb.append("{\"text\": \"the ").append(r.nextBoolean() ? "movie" : "film").append(" was ").append(r.nextBoolean() ? "very " : "")
                        .append(w).append("\", \"label\": \"").append(p ? "positive" : "negative").append("\"}\n");
            }
            Files.writeString(data.resolve(split + ".jsonl"), sb);
        }
        var t = t4j("train", "--init-from", "hf:" + bert, "--dataset", "jsonl:" + data, "--epochs", "6", "--batch-size", "16", "--lr", "0.003",
                "--out", run.toString(), "--no-progress");
        assertThat(t.code()).as(t.err() + t.out()).isZero();
        assertThat(t.out()).contains("2 labels (negative, positive)", "120 train / 30 val / 30 test texts", "classifier.weight");
        double acc = ImageFolderTrainTest.testAccuracy(t.out());
        assertThat(acc).as(t.out()).isGreaterThan(80.0); // chance is 50%
        var e = t4j("export", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--hf-out", exported.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("BertForSequenceClassification");
        var again = t4j("export", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--hf-out", exported.toString());
        assertThat(again.code()).isEqualTo(1);
        assertThat(again.err()).contains("already holds a model", "--overwrite");
        assertThat(t4j("export", "--checkpoint", run.resolve("checkpoints/best.safetensors").toString(), "--hf-out", exported.toString(),
                "--overwrite").code()).isZero();
        var back = HfModels.bertForSequenceClassification(exported, null);
        assertThat(back.labels).containsExactly("negative", "positive");
        assertThat(exported.resolve("vocab.txt")).exists();
        var bad = Files.writeString(data.resolve("test.jsonl"), "{\"text\": \"x\", \"label\": \"neutral\"}\n{\"text\": 3}\n");
        var b = t4j("train", "--init-from", "hf:" + bert, "--dataset", "jsonl:" + data, "--epochs", "1", "--out", dir.resolve("run2").toString());
        assertThat(b.code()).isEqualTo(1);
        assertThat(b.err()).contains("test.jsonl").contains("line 2");
    }
}
