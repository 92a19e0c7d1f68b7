package io.github.transformers4j.models.hf;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertForMaskedLM;
import io.github.transformers4j.models.bert.BertForSequenceClassification;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Config;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.gpt2.GPT2Model;
import io.github.transformers4j.models.vit.ViTForImageClassification;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Random4j;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code from_pretrained} and {@code save_pretrained} for the architectures we import: config.json fields to our config
 * records and back, and the checkpoint's keys into the model (see {@link HfCheckpoint}). Loaded models are in eval mode,
 * as in transformers. A head the checkpoint lacks (a classifier) starts as initialised and is reported on stderr.
 */
public final class HfModels {
    private HfModels() {}

    // ---------------------------------------------------------------------------------------------- BERT

    public static BertConfig bertConfig(HfCheckpoint c) {
        c.requireType("bert");
        c.require("position_embedding_type", "absolute");
        c.require("is_decoder", false);
        c.require("add_cross_attention", false);
        int vocab = c.integer("vocab_size", 30522);
        return new BertConfig(vocab, c.integer("hidden_size", 768), c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 12),
                c.integer("intermediate_size", 3072), c.activation("hidden_act", "gelu"), c.number("hidden_dropout_prob", 0.1),
                c.number("attention_probs_dropout_prob", 0.1), c.integer("max_position_embeddings", 512), c.integer("type_vocab_size", 2),
                c.number("layer_norm_eps", 1e-12), c.number("initializer_range", 0.02), c.integer("pad_token_id", 0));
    }

    public static BertModel bertModel(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        HfCheckpoint.Weights w = c.weights();
        BertModel m = new BertModel(bertConfig(c), w.has("pooler.dense.weight", "bert."), Random4j.global());
        return loaded(c, m, w, "bert.", Set.of(), Set.of(), false);
    }

    public static BertForMaskedLM bertForMaskedLM(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        requireTied(c);
        BertForMaskedLM m = new BertForMaskedLM(bertConfig(c), Random4j.global());
        return loaded(c, m, c.weights(), "bert.", Set.of("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"), Set.of(), false);
    }

    /**
     * @param labels the class names: null keeps the checkpoint's (id2label); others give a new, freshly initialised
     *     classifier when their number differs (fine-tuning on another data set)
     */
    public static BertForSequenceClassification bertForSequenceClassification(Path dir, List<String> labels) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        List<String> own = c.labels();
        List<String> use = labels != null ? labels : own != null ? own : List.of("LABEL_0", "LABEL_1");
        Double classifierDropout = c.config.hasNonNull("classifier_dropout") ? c.number("classifier_dropout", 0) : null;
        var m = new BertForSequenceClassification(bertConfig(c), use, classifierDropout, Random4j.global());
        return loaded(c, m, c.weights(), "bert.", Set.of(), Set.of("classifier.", "bert.pooler."), labels != null);
    }

    public static ObjectNode bertConfigJson(BertConfig b, String architecture, List<String> labels) {
        ObjectNode n = base("bert", architecture);
        n.put("vocab_size", b.vocabSize()).put("hidden_size", b.hiddenSize()).put("num_hidden_layers", b.numHiddenLayers())
                .put("num_attention_heads", b.numAttentionHeads()).put("intermediate_size", b.intermediateSize())
                .put("hidden_act", hfName(b.hiddenAct())).put("hidden_dropout_prob", b.hiddenDropoutProb())
                .put("attention_probs_dropout_prob", b.attentionProbsDropoutProb()).put("max_position_embeddings", b.maxPositionEmbeddings())
                .put("type_vocab_size", b.typeVocabSize()).put("layer_norm_eps", b.layerNormEps()).put("initializer_range", b.initializerRange())
                .put("pad_token_id", b.padTokenId()).put("position_embedding_type", "absolute");
        return withLabels(n, labels);
    }

    // ---------------------------------------------------------------------------------------------- GPT-2

    public static GPT2Config gpt2Config(HfCheckpoint c) {
        c.requireType("gpt2");
        c.require("add_cross_attention", false);
        int embd = c.integer("n_embd", 768);
        return new GPT2Config(c.integer("vocab_size", 50257), c.integer("n_positions", c.integer("n_ctx", 1024)), embd,
                c.integer("n_layer", 12), c.integer("n_head", 12), c.integer("n_inner", 4 * embd), c.activation("activation_function", "gelu_new"),
                c.number("resid_pdrop", 0.1), c.number("embd_pdrop", 0.1), c.number("attn_pdrop", 0.1), c.number("layer_norm_epsilon", 1e-5),
                c.number("initializer_range", 0.02), c.bool("scale_attn_weights", true), c.bool("scale_attn_by_inverse_layer_idx", false),
                c.integer("bos_token_id", 50256), c.integer("eos_token_id", 50256));
    }

    public static GPT2Model gpt2Model(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        return loaded(c, new GPT2Model(gpt2Config(c), Random4j.global()), c.weights(), "transformer.", Set.of("lm_head.weight"), Set.of(), false);
    }

    public static GPT2LMHeadModel gpt2LMHeadModel(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        requireTied(c);
        return loaded(c, new GPT2LMHeadModel(gpt2Config(c), Random4j.global()), c.weights(), "transformer.", Set.of("lm_head.weight"), Set.of(), false);
    }

    public static ObjectNode gpt2ConfigJson(GPT2Config g, String architecture) {
        ObjectNode n = base("gpt2", architecture);
        n.put("vocab_size", g.vocabSize()).put("n_positions", g.nPositions()).put("n_embd", g.nEmbd()).put("n_layer", g.nLayer())
                .put("n_head", g.nHead()).put("n_inner", g.nInner()).put("activation_function", g.activationFunction() == Activation.GELU_TANH
                        ? "gelu_new" : hfName(g.activationFunction()))
                .put("resid_pdrop", g.residPdrop()).put("embd_pdrop", g.embdPdrop()).put("attn_pdrop", g.attnPdrop())
                .put("layer_norm_epsilon", g.layerNormEpsilon()).put("initializer_range", g.initializerRange())
                .put("scale_attn_weights", g.scaleAttnWeights()).put("scale_attn_by_inverse_layer_idx", g.scaleAttnByInverseLayerIdx())
                .put("bos_token_id", g.bosTokenId()).put("eos_token_id", g.eosTokenId()).put("tie_word_embeddings", true);
        return n;
    }

    // ---------------------------------------------------------------------------------------------- ViT

    public static ViTModel.Config vitConfig(HfCheckpoint c) {
        c.requireType("vit");
        c.require("pooler_act", "tanh");
        int hidden = c.integer("hidden_size", 768);
        if (c.config.hasNonNull("pooler_output_size")) c.require("pooler_output_size", hidden);
        return new ViTModel.Config(hidden, c.integer("num_hidden_layers", 12), c.integer("num_attention_heads", 12),
                c.integer("intermediate_size", 3072), c.activation("hidden_act", "gelu"), c.number("hidden_dropout_prob", 0),
                c.number("attention_probs_dropout_prob", 0), c.number("initializer_range", 0.02), c.number("layer_norm_eps", 1e-12),
                c.integer("image_size", 224), c.integer("patch_size", 16), c.integer("num_channels", 3), c.bool("qkv_bias", true));
    }

    public static ViTModel vitModel(Path dir) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        HfCheckpoint.Weights w = c.weights();
        ViTModel m = new ViTModel(vitConfig(c), w.has("pooler.dense.weight", "vit."), Random4j.global());
        return loaded(c, m, w, "vit.", Set.of(), Set.of(), false);
    }

    /** @param labels as for {@link #bertForSequenceClassification} */
    public static ViTForImageClassification vitForImageClassification(Path dir, List<String> labels) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        List<String> own = c.labels();
        List<String> use = labels != null ? labels : own != null ? own : List.of("LABEL_0", "LABEL_1");
        var m = new ViTForImageClassification(vitConfig(c), use, Random4j.global());
        return loaded(c, m, c.weights(), "vit.", Set.of(), Set.of("classifier."), labels != null);
    }

    public static ObjectNode vitConfigJson(ViTModel.Config v, String architecture, List<String> labels) {
        ObjectNode n = base("vit", architecture);
        n.put("hidden_size", v.hiddenSize()).put("num_hidden_layers", v.numHiddenLayers()).put("num_attention_heads", v.numAttentionHeads())
                .put("intermediate_size", v.intermediateSize()).put("hidden_act", hfName(v.hiddenAct()))
                .put("hidden_dropout_prob", v.hiddenDropoutProb()).put("attention_probs_dropout_prob", v.attentionProbsDropoutProb())
                .put("initializer_range", v.initializerRange()).put("layer_norm_eps", v.layerNormEps()).put("image_size", v.imageSize())
                .put("patch_size", v.patchSize()).put("num_channels", v.numChannels()).put("qkv_bias", v.qkvBias())
                .put("encoder_stride", v.patchSize());
        return withLabels(n, labels);
    }

    // ---------------------------------------------------------------------------------------------- fine-tuning

    /**
     * The trainer's classifier for {@code --model hf:DIR}: a ViT image classifier or a BERT text classifier by the folder's
     * model_type, with a new head of {@code numClasses} (weights are read by their {@code loadPretrained}).
     */
    public static io.github.transformers4j.models.ImageClassifier classifier(Path dir, int numClasses, Random4j rng) {
        HfCheckpoint c = HfCheckpoint.open(dir);
        c.requireType("vit", "bert");
        return "vit".equals(c.modelType()) ? new HfImageClassifier(dir, numClasses, rng) : new HfTextClassifier(dir, numClasses, rng);
    }

    /** Whether {@code dir} holds a text model (BERT) rather than an image one. */
    public static boolean isText(Path dir) {
        return "bert".equals(HfCheckpoint.open(dir).modelType());
    }

    // ---------------------------------------------------------------------------------------------- saving

    /**
     * {@code save_pretrained}: config.json and model.safetensors for any of the models above; tokenizer and image
     * processor files are copied from {@code copyFrom} (the folder it was loaded from), if given.
     */
    public static void savePretrained(Module model, Path dir, Path copyFrom) {
        ObjectNode config = switch (model) {
            case BertForSequenceClassification m -> bertConfigJson(m.bert.config, "BertForSequenceClassification", m.labels);
            case BertForMaskedLM m -> bertConfigJson(m.bert.config, "BertForMaskedLM", null);
            case BertModel m -> bertConfigJson(m.config, "BertModel", null);
            case GPT2LMHeadModel m -> gpt2ConfigJson(m.config(), "GPT2LMHeadModel");
            case GPT2Model m -> gpt2ConfigJson(m.config, "GPT2Model");
            case ViTForImageClassification m -> vitConfigJson(m.vit.config, "ViTForImageClassification", m.labels);
            case ViTModel m -> vitConfigJson(m.config, "ViTModel", null);
            default -> throw new IllegalArgumentException("savePretrained: " + model.getClass().getSimpleName()
                    + " has no Hugging Face layout (BERT, GPT-2 and ViT models do)");
        };
        write(model, dir, config, copyFrom);
    }

    /** config.json and the model's own state dict (its keys are Hugging Face's), the source folder's extra files copied. */
    static void write(Module model, Path dir, ObjectNode config, Path copyFrom) {
        try {
            HfCheckpoint.save(dir, model, config, copyFrom);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static <M extends Module> M loaded(HfCheckpoint c, M model, HfCheckpoint.Weights w, String basePrefix, Set<String> tied,
            Set<String> newHeads, boolean replaceHeads) {
        HfCheckpoint.LoadReport r = c.loadInto(model, w, basePrefix, tied, newHeads, replaceHeads);
        if (!r.newlyInitialized().isEmpty())
            System.err.println("note: " + model.getClass().getSimpleName() + " from " + c.dir + ": newly initialised (not in the checkpoint): "
                    + String.join(", ", r.newlyInitialized()));
        if (!r.unused().isEmpty())
            System.err.println("note: " + model.getClass().getSimpleName() + " from " + c.dir + ": " + r.unused().size()
                    + " checkpoint weight(s) not used: " + String.join(", ", r.unused().subList(0, Math.min(6, r.unused().size())))
                    + (r.unused().size() > 6 ? ", ..." : ""));
        model.eval();
        return model;
    }

    private static void requireTied(HfCheckpoint c) {
        if (!c.bool("tie_word_embeddings", true))
            throw new IllegalArgumentException(c.dir.resolve(HfCheckpoint.CONFIG) + ": \"tie_word_embeddings\" = false is not supported "
                    + "(the output layer is the embedding table)");
    }

    private static ObjectNode base(String type, String architecture) {
        ObjectNode n = HfCheckpoint.JSON.createObjectNode();
        n.putArray("architectures").add(architecture);
        n.put("model_type", type).put("dtype", "float32");
        return n;
    }

    private static ObjectNode withLabels(ObjectNode n, List<String> labels) {
        if (labels == null) return n;
        ObjectNode id2label = n.putObject("id2label"), label2id = n.putObject("label2id");
        for (int i = 0; i < labels.size(); i++) {
            id2label.put(Integer.toString(i), labels.get(i));
            label2id.put(labels.get(i), i);
        }
        return n;
    }

    private static String hfName(Activation a) {
        return switch (a) {
            case GELU -> "gelu";
            case GELU_TANH -> "gelu_pytorch_tanh";
            case RELU -> "relu";
        };
    }
}
