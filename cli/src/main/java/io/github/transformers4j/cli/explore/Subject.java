package io.github.transformers4j.cli.explore;

import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageProcessor;
import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Model;
import io.github.transformers4j.models.hf.HfCheckpoint;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.nn.functional.AttentionCapture;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.recipes.VisionRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * What the explorer looks at: a model (trained, and the same architecture freshly initialised for comparison) and how to
 * turn the user's text or image into attention maps. The maps come from {@link AttentionCapture}, the one mechanism that
 * every attention module here reports through, so a new model needs no explorer code.
 */
sealed interface Subject permits Subject.Text, Subject.Vision, Subject.Summarizer, Subject.Mae {
    /**
     * One kind of attention of a model, layer by layer: self-attention of an encoder or decoder, or an encoder-decoder's
     * cross-attention, with the labels of its queries and keys and which keys are special tokens.
     */
    /**
     * @param cells for image models, the patch-grid cell of every key token (-1 for a class token), else null
     */
    record Stack(String name, List<String> queries, List<String> keys, boolean[] special, int[] segments, int[] cells,
                 List<AttentionCapture.Call> calls) {
        /** Self-attention stacks are built with one token list for queries and keys; cross-attention with two. */
        boolean isSelfAttention() {
            return queries == keys;
        }

        int layers() {
            return calls.size();
        }

        int heads() {
            return calls.getFirst().heads();
        }
    }

    /**
     * One analysed input: its stacks (one for encoder-only and decoder-only models), an image model's patch grid (0 for
     * text), and images to show beside it (a masked autoencoder's masked input and reconstruction; name -> PNG data URL).
     */
    record Analysis(List<Stack> stacks, int grid, boolean classToken, java.util.Map<String, String> images) {
        Stack stack(int i) {
            return stacks.get(i);
        }

        /** The first stack's calls (image models have one stack). */
        List<AttentionCapture.Call> calls() {
            return stacks.getFirst().calls();
        }

        static Analysis single(List<String> tokens, boolean[] special, int[] segments, int[] cells, int grid, boolean classToken,
                List<AttentionCapture.Call> calls) {
            return new Analysis(List.of(new Stack("self-attention", tokens, tokens, special, segments, cells, calls)), grid, classToken,
                    java.util.Map.of());
        }
    }

    String description();

    /** Runs a forward pass of the trained or the fresh model inside a capture; returns the attention calls. */
    static List<AttentionCapture.Call> capture(Consumer<Boolean> forward, boolean fresh, String what) {
        try (var g = Grad.disabled(); AttentionCapture c = AttentionCapture.open()) {
            forward.accept(fresh);
            if (c.calls().isEmpty()) throw new IllegalArgumentException(what + " made no attention call (a model without attention?)");
            return c.calls();
        }
    }

    /** A Hugging Face folder: BERT and GPT-2 (text), ViT (images). */
    static Subject open(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        Random4j rng = new Random4j(0);
        return switch (c.modelType()) {
            case "bert" -> {
                BertModel trained = HfModels.bertModel(dir), fresh = new BertModel(HfModels.bertConfig(c), false, rng);
                fresh.eval();
                yield new Text("BERT " + dir.getFileName(), AutoTokenizer.fromPretrained(dir), false, trained.config.maxPositionEmbeddings(),
                        (ids, types, f) -> (f ? fresh : trained).forward(ids, null, types, ModelOutput.Want.NONE));
            }
            case "gpt2" -> {
                GPT2Model trained = HfModels.gpt2Model(dir), fresh = new GPT2Model(HfModels.gpt2Config(c), rng);
                fresh.eval();
                yield new Text("GPT-2 " + dir.getFileName(), AutoTokenizer.fromPretrained(dir), true, trained.config.nPositions(),
                        (ids, types, f) -> (f ? fresh : trained).forward(ids, null, null, ModelOutput.Want.NONE));
            }
            case "vit" -> {
                ViTModel trained = HfModels.vitModel(dir), fresh = new ViTModel(HfModels.vitConfig(c), false, rng);
                fresh.eval();
                ImageProcessor p = ImageProcessor.fromPretrained(dir, trained.config.imageSize());
                yield new Vision("ViT " + dir.getFileName(), 3, image -> p.preprocess(List.of(image)),
                        (px, types, f) -> (f ? fresh : trained).forward(px, ModelOutput.Want.NONE));
            }
            default -> throw new IllegalArgumentException(dir.resolve(HfCheckpoint.CONFIG) + ": model_type \"" + c.modelType()
                    + "\" cannot be explored (bert, gpt2, vit)");
        };
    }

    /**
     * A checkpoint of {@code t4j train}: a summarizer, or an image classifier (the zoo's, or a fine-tuned Hugging Face ViT);
     * or of {@code t4j pretrain} (a masked autoencoder).
     */
    static Subject checkpoint(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such checkpoint file");
        var ck = io.github.transformers4j.train.Checkpoint.load(file);
        if ("pretrain".equals(ck.meta("kind"))) return mae(file, ck);
        if (io.github.transformers4j.recipes.SummarizationRecipe.isSummarizationCheckpoint(file)) return summarizer(file);
        VisionRecipe.Loaded loaded = VisionRecipe.load(file, Device.CPU);
        ImageClassifier trained = loaded.model();
        VisionRecipe.DataSpec spec = loaded.spec();
        ImageClassifier fresh = ModelZoo.create(loaded.config().model(), spec.imageSize(), spec.channels(), spec.classes().size(), new Random4j(0));
        trained.eval();
        fresh.eval();
        var transform = VisionRecipe.evalTransform(spec);
        return new Vision(loaded.config().model() + " (" + file.getFileName() + ", epoch " + loaded.epoch() + ")", spec.channels(), image -> {
            Image x = transform.apply(grey(image, spec.channels()), null);
            return Tensor.of(x.pixels(), 1, x.channels(), x.height(), x.width());
        }, (px, types, f) -> (f ? fresh : trained).forward(px));
    }

    /** A three-channel image as the model's channels (mean of the three for one channel). */
    private static Image grey(Image rgb, int channels) {
        if (channels == rgb.channels()) return rgb;
        int plane = rgb.height() * rgb.width();
        float[] g = new float[plane];
        for (int i = 0; i < plane; i++) g[i] = Math.round((rgb.pixels()[i] + rgb.pixels()[plane + i] + rgb.pixels()[2 * plane + i]) / 3f);
        return new Image(g, 1, rgb.height(), rgb.width());
    }

    /** A masked-autoencoder checkpoint of t4j pretrain. */
    private static Subject mae(Path file, io.github.transformers4j.train.Checkpoint ck) {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        io.github.transformers4j.models.mae.MaeConfig mc;
        VisionRecipe.DataSpec spec;
        try {
            var root = json.readTree(ck.meta("config"));
            mc = json.treeToValue(root.get("model"), io.github.transformers4j.models.mae.MaeConfig.class);
            spec = json.treeToValue(root.get("data"), VisionRecipe.DataSpec.class);
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": not a checkpoint of t4j pretrain (" + e.getMessage() + ")", e);
        }
        var trained = new io.github.transformers4j.models.mae.MaskedAutoencoder(mc, new Random4j(0));
        trained.loadStateDict(ck.model(), true);
        var fresh = new io.github.transformers4j.models.mae.MaskedAutoencoder(mc, new Random4j(0));
        trained.eval();
        fresh.eval();
        var transform = VisionRecipe.evalTransform(spec);
        return new Mae("masked autoencoder (" + file.getFileName() + ", epoch " + ck.meta("epoch") + ")", spec, image -> {
                    Image x = transform.apply(grey(image, spec.channels()), null);
                    return Tensor.of(x.pixels(), 1, x.channels(), x.height(), x.width());
                }, trained, fresh);
    }

    /**
     * A masked autoencoder: the encoder sees the visible patches only (a seeded random mask), the decoder every patch. Two
     * stacks, whose key tokens map to their patches; the original, the masked input and the reconstruction beside them.
     */
    record Mae(String description, VisionRecipe.DataSpec spec, Function<Image, Tensor> preprocess,
               io.github.transformers4j.models.mae.MaskedAutoencoder trained, io.github.transformers4j.models.mae.MaskedAutoencoder fresh)
            implements Subject {
        Analysis analyse(Image image, boolean untrained) {
            var mae = untrained ? fresh : trained;
            var c = mae.config;
            Tensor x = preprocess.apply(image);
            io.github.transformers4j.models.mae.MaskedAutoencoder.Output[] out = new io.github.transformers4j.models.mae.MaskedAutoencoder.Output[1];
            List<AttentionCapture.Call> calls = capture(f -> out[0] = mae.forward(x, new Random4j(1)), untrained, description);
            var o = out[0];
            int n = c.numPatches(), grid = (int) Math.round(Math.sqrt(n)), enc = c.encoderDepth();
            long[] keep = o.masking().idsKeep().toLongArray();
            List<String> encTokens = new ArrayList<>(List.of("[CLS]")), decTokens = new ArrayList<>(List.of("[CLS]"));
            int[] encCells = new int[keep.length + 1], decCells = new int[n + 1];
            encCells[0] = decCells[0] = -1;
            for (int i = 0; i < keep.length; i++) {
                encTokens.add("p" + keep[i]);
                encCells[i + 1] = (int) keep[i];
            }
            for (int i = 0; i < n; i++) {
                decTokens.add("p" + i);
                decCells[i + 1] = i;
            }
            boolean[] encSpecial = new boolean[encTokens.size()], decSpecial = new boolean[decTokens.size()];
            encSpecial[0] = decSpecial[0] = true;
            var images = new java.util.LinkedHashMap<String, String>();
            try (var g = Grad.disabled()) {
                Tensor recon = mae.reconstruct(o.pred(), x);
                Tensor visible = o.masking().mask().neg().add(1).unsqueeze(-1); // (1, N, 1): 1 = visible
                Tensor patches = io.github.transformers4j.models.vit.VisionTransformer.patchify(x, c.patchSize());
                Tensor masked = io.github.transformers4j.models.vit.VisionTransformer.unpatchify(patches.mul(visible), c.patchSize(), c.channels(), c.imageSize());
                images.put("original", png(x));
                images.put("masked " + Math.round(100 * c.maskRatio()) + "%", png(masked));
                images.put("reconstruction", png(recon));
            }
            return new Analysis(List.of(
                    new Stack("encoder self-attention (visible patches)", encTokens, encTokens, encSpecial, new int[encTokens.size()], encCells,
                            calls.subList(0, enc)),
                    new Stack("decoder self-attention (all patches)", decTokens, decTokens, decSpecial, new int[decTokens.size()], decCells,
                            calls.subList(enc, calls.size()))), grid, true, images);
        }

        /** A (1, C, S, S) normalised image as a PNG data URL (pixels un-normalised with the data set's statistics). */
        private String png(Tensor x) {
            Tensor u = io.github.transformers4j.recipes.PretrainRecipe.unnormalize(x, spec);
            int ch = u.size(1), h = u.size(2), w = u.size(3);
            float[] v = u.contiguous().toFloatArray();
            var img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++) {
                    int rgb = 0;
                    for (int k = 0; k < 3; k++) {
                        float f = v[((ch == 1 ? 0 : k) * h + y) * w + xx];
                        rgb = (rgb << 8) | Math.max(0, Math.min(255, Math.round(f * 255)));
                    }
                    img.setRGB(xx, y, rgb);
                }
            var buf = new java.io.ByteArrayOutputStream();
            try {
                javax.imageio.ImageIO.write(img, "png", buf);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(buf.toByteArray());
        }
    }

    /** A summarizer checkpoint of t4j train: the checkpoint's own kind is checked by {@link #checkpoint}. */
    static Subject summarizer(Path file) {
        var loaded = io.github.transformers4j.recipes.SummarizationRecipe.load(file);
        var trained = loaded.model();
        var fresh = new io.github.transformers4j.models.seq2seq.Seq2SeqTransformer(trained.config, new Random4j(0));
        trained.eval();
        fresh.eval();
        return new Summarizer("summarizer (" + file.getFileName() + ", epoch " + loaded.epoch() + ")", loaded.tokenizer(), loaded.collator(),
                trained, fresh);
    }

    /**
     * An encoder-decoder summarizer: the document goes to the encoder; the decoder reads the summary the model writes for
     * it (greedy), or the one the user gives. Three stacks: encoder self-, decoder self- and cross-attention.
     */
    record Summarizer(String description, Tokenizer tokenizer, io.github.transformers4j.data.text.Seq2SeqCollator collator,
                      io.github.transformers4j.models.seq2seq.Seq2SeqTransformer trained,
                      io.github.transformers4j.models.seq2seq.Seq2SeqTransformer fresh) implements Subject {
        Analysis analyse(String document, String summary, boolean untrained) {
            var model = untrained ? fresh : trained;
            int[] src = collator.encodeSource(document);
            if (src.length == 0) throw new IllegalArgumentException("the document has no tokens");
            Tensor in = Tensor.ofLongs(Arrays.stream(src).asLongStream().toArray(), 1, src.length);
            int[] out;
            if (summary == null || summary.isBlank()) {
                out = io.github.transformers4j.models.seq2seq.Generator.generate(model, in,
                        io.github.transformers4j.models.seq2seq.GenerationConfig.greedy(collator.maxTargetLength())).getFirst();
            } else {
                int[] t = collator.encodeTarget(summary);
                out = t.length > 0 && t[t.length - 1] == collator.eosId() ? Arrays.copyOf(t, t.length - 1) : t;
            }
            int[] dec = new int[out.length + 1]; // the decoder starts from EOS
            dec[0] = collator.eosId();
            System.arraycopy(out, 0, dec, 1, out.length);
            Tensor decIn = Tensor.ofLongs(Arrays.stream(dec).asLongStream().toArray(), 1, dec.length);
            List<AttentionCapture.Call> calls = capture(f -> model.forward(in, decIn), untrained, description);
            int enc = model.config.numEncoderLayers();
            List<AttentionCapture.Call> self = new ArrayList<>(), cross = new ArrayList<>();
            for (int i = enc; i < calls.size(); i++) ((i - enc) % 2 == 0 ? self : cross).add(calls.get(i));
            List<String> s = labels(src), t = labels(dec);
            boolean[] sSpecial = special(src), tSpecial = special(dec);
            return new Analysis(List.of(new Stack("encoder self-attention", s, s, sSpecial, new int[s.size()], null, calls.subList(0, enc)),
                    new Stack("decoder self-attention", t, t, tSpecial, new int[t.size()], null, self),
                    new Stack("cross-attention", t, s, sSpecial, new int[t.size()], null, cross)), 0, false, java.util.Map.of());
        }

        private List<String> labels(int[] ids) {
            List<String> out = new ArrayList<>();
            for (int id : ids) out.add(label(tokenizer, id));
            return out;
        }

        private boolean[] special(int[] ids) {
            boolean[] out = new boolean[ids.length];
            for (int i = 0; i < ids.length; i++) {
                int id = ids[i];
                out[i] = tokenizer.addedTokens().stream().anyMatch(t -> t.id() == id && t.special());
            }
            return out;
        }
    }

    /** A token as the page shows it: its decoded text ("Ġcat" reads " cat"), or its vocabulary entry when that is clearer. */
    static String label(Tokenizer tok, int id) {
        String d = tok.decode(new int[] {id}, false);
        return d.isBlank() || d.contains("\uFFFD") ? tok.idToToken(id) : d;
    }

    interface Forward {
        /** types: token type ids (sentence pairs) or null. */
        void run(Tensor input, Tensor types, boolean fresh);
    }

    record Text(String description, Tokenizer tokenizer, boolean causal, int maxLength, Forward forward) implements Subject {
        /** textB: the second sentence of a pair (BERT: [CLS] A [SEP] B [SEP], token types 0 and 1), or null/blank. */
        Analysis analyse(String text, String textB, boolean fresh) {
            boolean pair = textB != null && !textB.isBlank();
            var p = pair ? tokenizer.encodePair(text, textB, true) : null;
            int[] ids = pair ? p.ids() : tokenizer.encode(text, true), segments = pair ? p.typeIds() : new int[ids.length];
            if (ids.length == 0) throw new IllegalArgumentException("the text has no tokens");
            if (ids.length > maxLength) {
                ids = Arrays.copyOf(ids, maxLength);
                segments = Arrays.copyOf(segments, maxLength);
            }
            List<String> tokens = new ArrayList<>();
            boolean[] special = new boolean[ids.length];
            var added = tokenizer.addedTokens();
            for (int i = 0; i < ids.length; i++) {
                tokens.add(label(tokenizer, ids[i]));
                int id = ids[i];
                special[i] = added.stream().anyMatch(t -> t.id() == id && t.special());
            }
            Tensor in = Tensor.ofLongs(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
            Tensor types = pair ? Tensor.ofLongs(Arrays.stream(segments).asLongStream().toArray(), 1, ids.length) : null;
            return Analysis.single(tokens, special, segments, null, 0, false, capture(f -> forward.run(in, types, f), fresh, description));
        }
    }

    record Vision(String description, int channels, Function<Image, Tensor> preprocess, Forward forward) implements Subject {
        Analysis analyse(Image image, boolean fresh) {
            Tensor px = preprocess.apply(image);
            List<AttentionCapture.Call> calls = capture(f -> forward.run(px, null, f), fresh, description);
            int n = calls.getFirst().keys();
            int withCls = (int) Math.round(Math.sqrt(n - 1)), without = (int) Math.round(Math.sqrt(n));
            boolean cls = withCls * withCls == n - 1;
            int grid = cls ? withCls : without * without == n ? without : 0;
            if (grid == 0) throw new IllegalArgumentException(description + ": " + n + " tokens do not form a square grid of patches");
            List<String> tokens = new ArrayList<>();
            if (cls) tokens.add("[CLS]");
            for (int i = 0; i < grid * grid; i++) tokens.add("p" + i);
            boolean[] special = new boolean[tokens.size()];
            special[0] = cls;
            int[] cells = new int[tokens.size()];
            for (int i = 0; i < cells.length; i++) cells[i] = i - (cls ? 1 : 0);
            return Analysis.single(tokens, special, new int[tokens.size()], cells, grid, cls, calls);
        }
    }
}
