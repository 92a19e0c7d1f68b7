package io.github.transformers4j.cli.explore;

import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageProcessor;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Model;
import io.github.transformers4j.models.hf.HfCheckpoint;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * What the explorer looks at: a model (trained, and the same architecture freshly initialised for comparison) and how to
 * turn the user's text or image into its attention maps. Attention comes from the models' own
 * {@code output_attentions} switch ({@link ModelOutput.Want#ALL}), the same for every architecture.
 */
sealed interface Subject permits Subject.Text, Subject.Vision {
    /** One analysed input: token labels (or patch grid) and every layer's attention, [layer][head][query * keys + key]. */
    record Analysis(List<String> tokens, boolean[] special, int grid, float[][][] attention, int queries, int keys) {
        int layers() {
            return attention.length;
        }

        int heads() {
            return attention[0].length;
        }
    }

    String description();

    int layers();

    int heads();

    /** Loads the model behind a Hugging Face folder: BERT and GPT-2 (text), ViT (images). */
    static Subject open(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        Random4j rng = new Random4j(0);
        return switch (c.modelType()) {
            case "bert" -> {
                BertModel trained = HfModels.bertModel(dir), fresh = new BertModel(HfModels.bertConfig(c), false, rng);
                fresh.eval();
                yield new Text("BERT " + dir.getFileName(), AutoTokenizer.fromPretrained(dir), false, trained.config.numHiddenLayers(),
                        trained.config.numAttentionHeads(), trained.config.maxPositionEmbeddings(),
                        ids -> trained.forward(ids, null, null, ModelOutput.Want.ALL), ids -> fresh.forward(ids, null, null, ModelOutput.Want.ALL));
            }
            case "gpt2" -> {
                GPT2Model trained = HfModels.gpt2Model(dir), fresh = new GPT2Model(HfModels.gpt2Config(c), rng);
                fresh.eval();
                yield new Text("GPT-2 " + dir.getFileName(), AutoTokenizer.fromPretrained(dir), true, trained.config.nLayer(), trained.config.nHead(),
                        trained.config.nPositions(), ids -> trained.forward(ids, null, null, ModelOutput.Want.ALL),
                        ids -> fresh.forward(ids, null, null, ModelOutput.Want.ALL));
            }
            case "vit" -> {
                ViTModel trained = HfModels.vitModel(dir), fresh = new ViTModel(HfModels.vitConfig(c), false, rng);
                fresh.eval();
                ViTModel.Config v = trained.config;
                yield new Vision("ViT " + dir.getFileName(), ImageProcessor.fromPretrained(dir, v.imageSize()), v.numHiddenLayers(),
                        v.numAttentionHeads(), v.imageSize() / v.patchSize(), px -> trained.forward(px, ModelOutput.Want.ALL),
                        px -> fresh.forward(px, ModelOutput.Want.ALL));
            }
            default -> throw new IllegalArgumentException(dir.resolve(HfCheckpoint.CONFIG) + ": model_type \"" + c.modelType()
                    + "\" cannot be explored (bert, gpt2, vit)");
        };
    }

    /** [layer][head][Lq * Lk] from the per-layer weights (1, H, Lq, Lk). */
    static float[][][] weights(List<Tensor> attentions) {
        float[][][] out = new float[attentions.size()][][];
        for (int l = 0; l < out.length; l++) {
            Tensor a = attentions.get(l);
            int h = a.size(1), n = a.size(2) * a.size(3);
            float[] all = a.contiguous().toFloatArray();
            out[l] = new float[h][];
            for (int i = 0; i < h; i++) out[l][i] = Arrays.copyOfRange(all, i * n, (i + 1) * n);
        }
        return out;
    }

    record Text(String description, Tokenizer tokenizer, boolean causal, int layers, int heads, int maxLength,
                Function<Tensor, ModelOutput> trained, Function<Tensor, ModelOutput> untrained) implements Subject {
        Analysis analyse(String text, boolean fresh) {
            int[] ids = tokenizer.encode(text, true);
            if (ids.length == 0) throw new IllegalArgumentException("the text has no tokens");
            if (ids.length > maxLength) ids = Arrays.copyOf(ids, maxLength);
            List<String> tokens = new ArrayList<>();
            boolean[] special = new boolean[ids.length];
            var added = tokenizer.addedTokens();
            for (int i = 0; i < ids.length; i++) {
                tokens.add(tokenizer.idToToken(ids[i]));
                int id = ids[i];
                special[i] = added.stream().anyMatch(t -> t.id() == id && t.special());
            }
            try (var g = Grad.disabled()) {
                Tensor in = Tensor.ofLongs(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
                ModelOutput o = (fresh ? untrained : trained).apply(in);
                return new Analysis(tokens, special, 0, weights(o.attentions()), ids.length, ids.length);
            }
        }
    }

    record Vision(String description, ImageProcessor processor, int layers, int heads, int grid,
                  Function<Tensor, ModelOutput> trained, Function<Tensor, ModelOutput> untrained) implements Subject {
        Analysis analyse(Image image, boolean fresh) {
            try (var g = Grad.disabled()) {
                ModelOutput o = (fresh ? untrained : trained).apply(processor.preprocess(List.of(image)));
                int n = grid * grid + 1;
                List<String> tokens = new ArrayList<>(List.of("[CLS]"));
                for (int i = 1; i < n; i++) tokens.add("p" + (i - 1));
                boolean[] special = new boolean[n];
                special[0] = true;
                return new Analysis(tokens, special, grid, weights(o.attentions()), n, n);
            }
        }
    }
}
