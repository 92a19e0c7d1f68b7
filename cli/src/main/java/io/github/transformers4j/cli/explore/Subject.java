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
import io.github.transformers4j.train.VisionRecipe;
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
sealed interface Subject permits Subject.Text, Subject.Vision, Subject.Summarizer {
    /**
     * One kind of attention of a model, layer by layer: self-attention of an encoder or decoder, or an encoder-decoder's
     * cross-attention, with the labels of its queries and keys and which keys are special tokens.
     */
    record Stack(String name, List<String> queries, List<String> keys, boolean[] special, int[] segments, List<AttentionCapture.Call> calls) {
        int layers() {
            return calls.size();
        }

        int heads() {
            return calls.getFirst().heads();
        }
    }

    /** One analysed input: its stacks (one for encoder-only and decoder-only models), an image model's patch grid (0 for text). */
    record Analysis(List<Stack> stacks, int grid, boolean classToken) {
        Stack stack(int i) {
            return stacks.get(i);
        }

        /** The first stack's calls (image models have one stack). */
        List<AttentionCapture.Call> calls() {
            return stacks.getFirst().calls();
        }

        static Analysis single(List<String> tokens, boolean[] special, int[] segments, int grid, boolean classToken,
                List<AttentionCapture.Call> calls) {
            return new Analysis(List.of(new Stack("self-attention", tokens, tokens, special, segments, calls)), grid, classToken);
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

    /** A checkpoint of {@code t4j train}: a summarizer, or an image classifier (the zoo's, or a fine-tuned Hugging Face ViT). */
    static Subject checkpoint(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such checkpoint file");
        if (io.github.transformers4j.train.SummarizationRecipe.isSummarizationCheckpoint(file)) return summarizer(file);
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

    /** A summarizer checkpoint of t4j train: the checkpoint's own kind is checked by {@link #checkpoint}. */
    static Subject summarizer(Path file) {
        var loaded = io.github.transformers4j.train.SummarizationRecipe.load(file);
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
            return new Analysis(List.of(new Stack("encoder self-attention", s, s, sSpecial, new int[s.size()], calls.subList(0, enc)),
                    new Stack("decoder self-attention", t, t, tSpecial, new int[t.size()], self),
                    new Stack("cross-attention", t, s, sSpecial, new int[t.size()], cross)), 0, false);
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
            return Analysis.single(tokens, special, segments, 0, false, capture(f -> forward.run(in, types, f), fresh, description));
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
            return Analysis.single(tokens, special, new int[tokens.size()], grid, cls, calls);
        }
    }
}
