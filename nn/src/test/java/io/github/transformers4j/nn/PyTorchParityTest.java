package io.github.transformers4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.Reduction;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.nn.transformer.Transformer;
import io.github.transformers4j.nn.transformer.TransformerDecoderLayer;
import io.github.transformers4j.nn.transformer.TransformerEncoder;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every in-scope PyTorch fixture: load the {@code param.*} state dict unchanged (strict), run forward, compare every
 * output, then backward of {@code sum(output * gradout)} and compare every {@code grad.input.*} and {@code grad.param.*}
 * (F32: rtol 1e-4, atol 1e-5; F64: rtol 1e-9, atol 1e-11).
 */
class PyTorchParityTest {
    private static final List<String> SCOPE = List.of("sdpa_", "mha_", "encoder_layer_", "decoder_layer_", "encoder_2layer",
            "transformer_small", "layernorm", "linear", "embedding_padding_idx", "conv2d_", "gelu_", "softmax_", "log_softmax_",
            "cross_entropy_", "nll_loss_", "mse_loss_");

    static Stream<String> fixtures() {
        return Fixture.indexNames().stream().filter(n -> SCOPE.stream().anyMatch(n::startsWith));
    }

    /** What a case ran: the module (null for functional cases), the input leaves, and the outputs by fixture name. */
    private record Run(Module module, Map<String, Tensor> inputs, Map<String, Tensor> outputs) {}

    @Test
    void everyScopePrefixHasFixtures() {
        List<String> names = fixtures().toList();
        for (String p : SCOPE) assertThat(names).as("fixtures starting with " + p).anyMatch(n -> n.startsWith(p));
        assertThat(names).hasSize(42);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void matchesPyTorch(String name) {
        Fixture fx = Fixture.load(name);
        Run run = run(fx);
        int compared = 0;
        for (var e : fx.withPrefix("output.").entrySet()) {
            String out = e.getKey().equals("torch_out") ? "out" : e.getKey(); // PyTorch's own fully-masked output: also zeros
            Tensor actual = run.outputs().get(out);
            assertThat(actual).as(name + ": output " + out + " was not produced").isNotNull();
            Fixture.assertClose(name + " output." + e.getKey(), actual, e.getValue(), fx.rtol(), fx.atol());
            compared++;
        }
        fx.loss(run.outputs()).backward();
        for (var e : fx.withPrefix("grad.input.").entrySet()) {
            Tensor leaf = run.inputs().get(e.getKey());
            assertThat(leaf).as(name + ": no input leaf " + e.getKey()).isNotNull();
            fx.assertClose("grad.input." + e.getKey(), leaf.grad());
            compared++;
        }
        if (run.module() != null) {
            fx.assertParamGradsClose(run.module().namedParameters());
            compared += fx.paramGrads().size();
            assertThat(fx.paramGrads().keySet()).as(name + ": every parameter's gradient is in the fixture")
                    .containsExactlyInAnyOrderElementsOf(run.module().namedParameters().keySet());
        }
        assertThat(compared).isGreaterThan(1);
    }

    private static Run run(Fixture fx) {
        String n = fx.name();
        if (n.startsWith("sdpa_")) return sdpa(fx);
        if (n.startsWith("mha_")) return mha(fx);
        if (n.startsWith("encoder_layer_")) return encoderLayer(fx);
        if (n.startsWith("decoder_layer_")) return decoderLayer(fx);
        if (n.startsWith("encoder_2layer")) return encoder(fx);
        if (n.startsWith("transformer_small")) return transformer(fx);
        if (n.startsWith("layernorm")) {
            JsonNode c = fx.config();
            int[] shape = ints(c.get("normalized_shape"));
            return module(fx, new LayerNorm(shape, c.get("eps").asDouble(), c.get("elementwise_affine").asBoolean(), true));
        }
        if (n.startsWith("linear")) {
            JsonNode c = fx.config();
            return module(fx, new Linear(c.get("in_features").asInt(), c.get("out_features").asInt(), c.get("bias").asBoolean(), new Random4j(1)));
        }
        if (n.startsWith("conv2d_")) {
            JsonNode c = fx.config();
            return module(fx, new Conv2d(c.get("in_channels").asInt(), c.get("out_channels").asInt(), pair(c.get("kernel_size")),
                    pair(c.get("stride")), pair(c.get("padding")), c.has("dilation") ? pair(c.get("dilation")) : new int[] {1, 1},
                    c.has("groups") ? c.get("groups").asInt() : 1, c.get("bias").asBoolean(), new Random4j(1)));
        }
        if (n.startsWith("embedding_padding_idx")) {
            JsonNode c = fx.config();
            Embedding emb = new Embedding(c.get("num_embeddings").asInt(), c.get("embedding_dim").asInt(), c.get("padding_idx").asInt(), new Random4j(1));
            emb.to(fx.dtype()).loadStateDict(fx.params(), true);
            return new Run(emb, Map.of(), Map.of("out", emb.forward(fx.input("input"))));
        }
        if (n.startsWith("gelu_")) return functional(fx, x -> F.gelu(x, fx.config().get("approximate").asText()));
        if (n.startsWith("softmax_")) return functional(fx, x -> F.softmax(x, fx.config().get("dim").asInt()));
        if (n.startsWith("log_softmax_")) return functional(fx, x -> F.logSoftmax(x, fx.config().get("dim").asInt()));
        if (n.startsWith("cross_entropy_") || n.startsWith("nll_loss_") || n.startsWith("mse_loss_")) return loss(fx);
        throw new IllegalArgumentException("no runner for fixture " + n);
    }

    private static Run module(Fixture fx, Layer layer) {
        layer.to(fx.dtype());
        layer.loadStateDict(fx.params(), true);
        Tensor x = fx.inputWithGrad("input");
        return new Run(layer, Map.of("input", x), Map.of("out", layer.forward(x)));
    }

    private static Run functional(Fixture fx, java.util.function.UnaryOperator<Tensor> f) {
        Tensor x = fx.inputWithGrad("input");
        return new Run(null, Map.of("input", x), Map.of("out", f.apply(x)));
    }

    private static Run loss(Fixture fx) {
        JsonNode c = fx.config();
        Tensor x = fx.inputWithGrad("input");
        Reduction r = Reduction.of(c.get("reduction").asText());
        Map<String, Tensor> inputs = new LinkedHashMap<>(Map.of("input", x));
        Tensor loss = switch (c.get("op").asText()) {
            case "cross_entropy" -> F.crossEntropy(x, fx.input("target"), c.get("ignore_index").asLong(), c.get("label_smoothing").asDouble(), r);
            case "nll_loss" -> F.nllLoss(x, fx.input("target"), c.get("ignore_index").asLong(), r);
            case "mse_loss" -> {
                Tensor t = fx.inputWithGrad("target");
                inputs.put("target", t);
                yield F.mseLoss(x, t, r);
            }
            default -> throw new IllegalArgumentException("unknown loss " + c.get("op"));
        };
        return new Run(null, inputs, Map.of("loss", loss));
    }

    private static Run sdpa(Fixture fx) {
        JsonNode c = fx.config();
        Tensor q = fx.inputWithGrad("q"), k = fx.inputWithGrad("k"), v = fx.inputWithGrad("v");
        Attention a = F.scaledDotProductAttention(q, k, v, new SdpaOptions(fx.input("attn_mask"), fx.input("key_padding_mask"),
                c.get("causal").asBoolean(), 0, null, null, true));
        return new Run(null, Map.of("q", q, "k", k, "v", v), Map.of("out", a.output(), "attn_weights", a.weights()));
    }

    private static Run mha(Fixture fx) {
        JsonNode c = fx.config();
        assertThat(c.get("kdim").asInt()).isEqualTo(c.get("embed_dim").asInt());
        var mha = new MultiheadAttention(c.get("embed_dim").asInt(), c.get("num_heads").asInt(), c.get("dropout").asDouble(),
                c.get("bias").asBoolean(), c.get("batch_first").asBoolean());
        mha.to(fx.dtype());
        mha.loadStateDict(fx.params(), true);
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        Tensor query = fx.inputWithGrad("query");
        inputs.put("query", query);
        Tensor key = query, value = query;
        if (!c.get("self_attention").asBoolean()) {
            key = fx.inputWithGrad("key");
            value = fx.inputWithGrad("value");
            inputs.put("key", key);
            inputs.put("value", value);
        }
        Attention a = mha.forward(query, key, value, fx.input("key_padding_mask"), c.get("need_weights").asBoolean(), fx.input("attn_mask"),
                c.get("average_attn_weights").asBoolean(), c.get("is_causal").asBoolean());
        Map<String, Tensor> outs = new LinkedHashMap<>();
        outs.put("attn_output", a.output());
        if (a.weights() != null) outs.put("attn_weights", a.weights());
        return new Run(mha, inputs, outs);
    }

    static TransformerLayerConfig layerConfig(JsonNode c) {
        return new TransformerLayerConfig(c.get("d_model").asInt(), c.get("nhead").asInt(), c.get("dim_feedforward").asInt(),
                c.get("dropout").asDouble(), Activation.of(c.get("activation").asText()),
                c.has("layer_norm_eps") ? c.get("layer_norm_eps").asDouble() : 1e-5, c.get("batch_first").asBoolean(),
                c.get("norm_first").asBoolean(), !c.has("bias") || c.get("bias").asBoolean());
    }

    private static Run encoderLayer(Fixture fx) {
        JsonNode c = fx.config();
        var layer = new TransformerEncoderLayer(layerConfig(c), new Random4j(1));
        layer.to(fx.dtype());
        layer.loadStateDict(fx.params(), true);
        Tensor src = fx.inputWithGrad("src");
        Tensor out = layer.forward(src, fx.input("src_mask"), fx.input("src_key_padding_mask"), c.get("is_causal").asBoolean());
        return new Run(layer, Map.of("src", src), Map.of("out", out));
    }

    private static Run decoderLayer(Fixture fx) {
        JsonNode c = fx.config();
        var layer = new TransformerDecoderLayer(layerConfig(c), new Random4j(1));
        layer.to(fx.dtype());
        layer.loadStateDict(fx.params(), true);
        Tensor tgt = fx.inputWithGrad("tgt"), memory = fx.inputWithGrad("memory");
        Tensor out = layer.forward(tgt, memory, fx.input("tgt_mask"), fx.input("memory_mask"), fx.input("tgt_key_padding_mask"),
                fx.input("memory_key_padding_mask"), c.get("tgt_is_causal").asBoolean(), false);
        return new Run(layer, Map.of("tgt", tgt, "memory", memory), Map.of("out", out));
    }

    private static Run encoder(Fixture fx) {
        JsonNode c = fx.config();
        TransformerLayerConfig lc = layerConfig(c.get("layer"));
        Random4j rng = new Random4j(1);
        var enc = new TransformerEncoder(() -> new TransformerEncoderLayer(lc, rng), c.get("num_layers").asInt(), new LayerNorm(lc.dModel()));
        enc.to(fx.dtype());
        enc.loadStateDict(fx.params(), true);
        Tensor src = fx.inputWithGrad("src");
        return new Run(enc, Map.of("src", src), Map.of("out", enc.forward(src, null, fx.input("src_key_padding_mask"), false)));
    }

    private static Run transformer(Fixture fx) {
        JsonNode c = fx.config();
        var model = new Transformer(layerConfig(c), c.get("num_encoder_layers").asInt(), c.get("num_decoder_layers").asInt(), new Random4j(1));
        model.to(fx.dtype());
        model.loadStateDict(fx.params(), true);
        Tensor src = fx.inputWithGrad("src"), tgt = fx.inputWithGrad("tgt");
        Tensor out = model.forward(src, tgt, null, fx.input("tgt_mask"), null, fx.input("src_key_padding_mask"), null,
                fx.input("memory_key_padding_mask"), false, c.get("tgt_is_causal").asBoolean(), false);
        return new Run(model, Map.of("src", src, "tgt", tgt), Map.of("out", out));
    }

    /** An int or a (height, width) pair, as PyTorch's Conv2d arguments. */
    private static int[] pair(JsonNode v) {
        return v.isArray() ? ints(v) : new int[] {v.asInt(), v.asInt()};
    }

    private static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) r[i] = arr.get(i).asInt();
        return r;
    }
}
