package io.github.transformers4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.nn.attention.MhaOptions;
import io.github.transformers4j.nn.attention.MultiheadAttention;
import io.github.transformers4j.nn.functional.Attention;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.recurrent.GRU;
import io.github.transformers4j.nn.recurrent.LSTM;
import io.github.transformers4j.nn.recurrent.RNNBase;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.nn.transformer.Transformer;
import io.github.transformers4j.nn.transformer.TransformerDecoderLayer;
import io.github.transformers4j.nn.transformer.TransformerEncoder;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.nn.transformer.TransformerMasks;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * PyTorch's documentation examples of nn.Transformer, nn.MultiheadAttention, nn.TransformerEncoder(Layer),
 * F.scaled_dot_product_attention, nn.GRU and nn.LSTM, ported line by line (the Python line above each Java line), with
 * the same positional arguments in the same order, and run on the PyTorch fixtures (sizes of the fixtures, weights
 * loaded from them): every output must match what PyTorch computed. The keyword arguments of a Python call become the
 * named forms ({@link MhaOptions}, {@link TransformerMasks}, {@link io.github.transformers4j.nn.functional.SdpaOptions})
 * or, where PyTorch's order allows, trailing positional arguments.
 */
class PyTorchDocPortTest {

    private static void close(Fixture fx, String output, Tensor actual) {
        Fixture.assertClose(fx.name() + " " + output, actual, fx.tensor("output." + output), fx.rtol(), fx.atol());
    }

    // ------------------------------------------------------------------ torch.nn.functional.scaled_dot_product_attention

    @Test
    void scaledDotProductAttention() {
        Fixture fx = Fixture.load("sdpa_plain");
        Tensor query = fx.input("q"), key = fx.input("k"), value = fx.input("v");
        // F.scaled_dot_product_attention(query, key, value)
        close(fx, "out", F.scaledDotProductAttention(query, key, value));

        fx = Fixture.load("sdpa_causal");
        // F.scaled_dot_product_attention(q, k, v, None, 0.0, True)   (is_causal, positionally)
        close(fx, "out", F.scaledDotProductAttention(fx.input("q"), fx.input("k"), fx.input("v"), null, 0.0, true));

        fx = Fixture.load("sdpa_float_mask");
        // F.scaled_dot_product_attention(q, k, v, attn_mask)   (float: added to the scores)
        close(fx, "out", F.scaledDotProductAttention(fx.input("q"), fx.input("k"), fx.input("v"), fx.input("attn_mask")));
    }

    @Test
    void scaledDotProductAttentionBoolMaskMeansAttend() {
        Fixture fx = Fixture.load("sdpa_padding"); // PyTorch ran attn_mask = ~key_padding_mask[:, None, None, :]
        Tensor kpm = fx.input("key_padding_mask");
        // attn_mask = ~key_padding_mask[:, None, None, :]
        Tensor attnMask = kpm.view(kpm.size(0), 1, 1, kpm.size(1)).logicalNot();
        // out = F.scaled_dot_product_attention(q, k, v, attn_mask)
        close(fx, "out", F.scaledDotProductAttention(fx.input("q"), fx.input("k"), fx.input("v"), attnMask));

        fx = Fixture.load("sdpa_padding_causal");
        kpm = fx.input("key_padding_mask");
        int lq = fx.input("q").size(2), lk = kpm.size(1);
        // allowed = ~kpm[:, None, None, :] & torch.ones(Lq, Lk, dtype=torch.bool).tril()
        Tensor allowed = kpm.view(kpm.size(0), 1, 1, lk).logicalNot().logicalAnd(F.causalMask(lq, lk, kpm.device()).logicalNot());
        // out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        close(fx, "out", F.scaledDotProductAttention(fx.input("q"), fx.input("k"), fx.input("v"), allowed));
    }

    // ------------------------------------------------------------------ torch.nn.MultiheadAttention

    @Test
    void multiheadAttention() {
        Fixture fx = Fixture.load("mha_cross_padding");
        int embedDim = 16, numHeads = 4;
        // multihead_attn = nn.MultiheadAttention(embed_dim, num_heads, 0.0, True, batch_first=True)
        var multiheadAttn = new MultiheadAttention(embedDim, numHeads, 0.0, true, true);
        multiheadAttn.loadStateDict(fx.params(), true);
        Tensor query = fx.input("query"), key = fx.input("key"), value = fx.input("value"), kpm = fx.input("key_padding_mask");
        // attn_output, attn_output_weights = multihead_attn(query, key, value, kpm)
        Attention a = multiheadAttn.forward(query, key, value, kpm);
        close(fx, "attn_output", a.output());
        close(fx, "attn_weights", a.weights());
        // the same call with the keyword: multihead_attn(query, key, value, key_padding_mask=kpm)
        Attention named = multiheadAttn.forward(query, key, value, MhaOptions.builder().keyPaddingMask(kpm).build());
        close(fx, "attn_output", named.output());
        close(fx, "attn_weights", named.weights());
    }

    @Test
    void multiheadAttentionSequenceFirstPerHeadWeights() {
        Fixture fx = Fixture.load("mha_seq_first_padding");
        // multihead_attn = nn.MultiheadAttention(16, 4)      (sequence-first (L, B, E), PyTorch's default)
        var multiheadAttn = new MultiheadAttention(16, 4);
        multiheadAttn.loadStateDict(fx.params(), true);
        Tensor x = fx.input("query");
        // out, w = multihead_attn(x, x, x, key_padding_mask=kpm, average_attn_weights=False)
        Attention a = multiheadAttn.forward(x, x, x,
                MhaOptions.builder().keyPaddingMask(fx.input("key_padding_mask")).averageAttnWeights(false).build());
        close(fx, "attn_output", a.output());
        close(fx, "attn_weights", a.weights());
    }

    @Test
    void multiheadAttentionMasksAreNotAllowedWhereTrue() {
        Fixture fx = Fixture.load("mha_self_causal"); // PyTorch ran attn_mask = generate_square_subsequent_mask(5), is_causal=True
        var multiheadAttn = new MultiheadAttention(16, 4, 0.0, true, true);
        multiheadAttn.loadStateDict(fx.params(), true);
        Tensor x = fx.input("query");
        // out, _ = multihead_attn(x, x, x, attn_mask=mask, need_weights=False, is_causal=True)
        Tensor out = multiheadAttn.forward(x, x, x, MhaOptions.builder().attnMask(fx.input("attn_mask")).needWeights(false)
                .isCausal(true).build()).output();
        close(fx, "attn_output", out);
        // bool_mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)    (True = NOT allowed here)
        Tensor boolMask = F.causalMask(5, 5, x.device());
        // out, _ = multihead_attn(x, x, x, None, False, bool_mask)
        close(fx, "attn_output", multiheadAttn.forward(x, x, x, null, false, boolMask).output());
    }

    // ------------------------------------------------------------------ torch.nn.TransformerEncoderLayer / TransformerEncoder

    @Test
    void transformerEncoderLayer() {
        Fixture fx = Fixture.load("encoder_layer_postnorm_relu");
        // encoder_layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True)
        var encoderLayer = new TransformerEncoderLayer(TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0.0)
                .withBatchFirst(true));
        encoderLayer.loadStateDict(fx.params(), true);
        Tensor src = fx.input("src"), kpm = fx.input("src_key_padding_mask");
        // out = encoder_layer(src, None, kpm)
        close(fx, "out", encoderLayer.forward(src, null, kpm));
        // out = encoder_layer(src, src_key_padding_mask=kpm)
        close(fx, "out", encoderLayer.forward(src, TransformerMasks.builder().srcKeyPaddingMask(kpm).build()));
    }

    @Test
    void transformerEncoder() {
        Fixture fx = Fixture.load("encoder_2layer");
        var cfg = TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0.0).withBatchFirst(true);
        // encoder_layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True)
        var encoderLayer = new TransformerEncoderLayer(cfg);
        // transformer_encoder = nn.TransformerEncoder(encoder_layer, num_layers=2, norm=nn.LayerNorm(16))
        var transformerEncoder = new TransformerEncoder(encoderLayer, 2, new LayerNorm(16));
        transformerEncoder.loadStateDict(fx.params(), true);
        // out = transformer_encoder(src, None, kpm)
        close(fx, "out", transformerEncoder.forward(fx.input("src"), null, fx.input("src_key_padding_mask")));
    }

    @Test
    void transformerEncoderCopiesItsLayerAsPyTorchDoes() {
        // encoder_layer = nn.TransformerEncoderLayer(d_model=8, nhead=2); encoder = nn.TransformerEncoder(encoder_layer, num_layers=3)
        var encoderLayer = new TransformerEncoderLayer(8, 2);
        var encoder = new TransformerEncoder(encoderLayer, 3);
        // deep copies: the same initial weights in every layer, none of them the given layer's tensors
        for (var layer : encoder.layers) {
            assertThat(layer).isNotSameAs(encoderLayer);
            assertThat(layer.linear1.weight.data().toFloatArray()).containsExactly(encoderLayer.linear1.weight.data().toFloatArray());
        }
        // src = torch.rand(10, 32, 512); out = transformer_encoder(src)   (sizes scaled down, sequence-first)
        assertThat(encoder.forward(Tensor.rand(new Random4j(1), 10, 4, 8)).shape()).containsExactly(10, 4, 8);
    }

    @Test
    void secondPositionalArgumentIsTheMaskNotThePadding() {
        var encoderLayer = new TransformerEncoderLayer(TransformerLayerConfig.of(8, 2).withDropout(0.0).withBatchFirst(true));
        Tensor src = Tensor.randn(new Random4j(3), 5, 5, 8);
        Tensor mask = F.causalMask(5, 5, src.device()); // (L, L), as generate_square_subsequent_mask but bool
        // encoder_layer(src, mask) == encoder_layer(src, src_mask=mask, is_causal=False)
        Tensor out = encoderLayer.forward(src, mask);
        Tensor causal = encoderLayer.forward(src, null, null, true);
        Fixture.assertClose("layer(src, mask) is src_mask", out, causal, 0, 1e-6);
        // a (B, L) key-padding mask in src_mask's place is an error naming the argument, never taken as padding
        Tensor kpm = Tensor.ofBooleans(new boolean[10], 2, 5);
        assertThatThrownBy(() -> encoderLayer.forward(src.narrow(0, 0, 2), kpm))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attnMask must be (L, S) = [5, 5]")
                .hasMessageContaining("[2, 5]");
    }

    // ------------------------------------------------------------------ torch.nn.TransformerDecoderLayer / torch.nn.Transformer

    @Test
    void transformerDecoderLayer() {
        Fixture fx = Fixture.load("decoder_layer_postnorm_causal");
        // decoder_layer = nn.TransformerDecoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True)
        var decoderLayer = new TransformerDecoderLayer(TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0.0)
                .withBatchFirst(true));
        decoderLayer.loadStateDict(fx.params(), true);
        Tensor tgt = fx.input("tgt"), memory = fx.input("memory");
        // out = decoder_layer(tgt, memory, tgt_mask, None, None, memory_key_padding_mask)
        close(fx, "out", decoderLayer.forward(tgt, memory, fx.input("tgt_mask"), null, null, fx.input("memory_key_padding_mask")));
        // out = decoder_layer(tgt, memory, tgt_mask=tgt_mask, memory_key_padding_mask=mkpm, tgt_is_causal=True)
        close(fx, "out", decoderLayer.forward(tgt, memory, TransformerMasks.builder().tgtMask(fx.input("tgt_mask"))
                .memoryKeyPaddingMask(fx.input("memory_key_padding_mask")).tgtIsCausal(true).build()));
    }

    @Test
    void transformer() {
        Fixture fx = Fixture.load("transformer_small");
        // transformer_model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
        //                                    dim_feedforward=32, dropout=0.0, batch_first=True)
        var transformerModel = new Transformer(TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0.0)
                .withBatchFirst(true), 2, 2);
        transformerModel.loadStateDict(fx.params(), true);
        Tensor src = fx.input("src"), tgt = fx.input("tgt");
        // tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
        Tensor tgtMask = Transformer.generateSquareSubsequentMask(4);
        // out = transformer_model(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=skpm, memory_key_padding_mask=mkpm, tgt_is_causal=True)
        Tensor out = transformerModel.forward(src, tgt, TransformerMasks.builder().tgtMask(tgtMask)
                .srcKeyPaddingMask(fx.input("src_key_padding_mask")).memoryKeyPaddingMask(fx.input("memory_key_padding_mask"))
                .tgtIsCausal(true).build());
        close(fx, "out", out);
    }

    @Test
    void transformerDocumentationShapes() {
        // transformer_model = nn.Transformer(nhead=16, num_encoder_layers=12)      (scaled down: d_model 32, nhead 4, 2 + 2 layers)
        var transformerModel = new Transformer(TransformerLayerConfig.of(32, 4).withDimFeedforward(64), 2, 2);
        // src = torch.rand((10, 32, 512)); tgt = torch.rand((20, 32, 512))     (sequence-first)
        Tensor src = Tensor.rand(new Random4j(1), 10, 3, 32), tgt = Tensor.rand(new Random4j(2), 20, 3, 32);
        // out = transformer_model(src, tgt)
        assertThat(transformerModel.forward(src, tgt).shape()).containsExactly(20, 3, 32);
        // out = transformer_model(src, tgt, src_mask, tgt_mask)
        Tensor out = transformerModel.forward(src, tgt, null, Transformer.generateSquareSubsequentMask(20));
        assertThat(out.shape()).containsExactly(20, 3, 32);
    }

    // ------------------------------------------------------------------ torch.nn.GRU / torch.nn.LSTM

    @Test
    void gru() {
        // rnn = nn.GRU(10, 20, 2); input = torch.randn(5, 3, 10); h0 = torch.randn(2, 3, 20); output, hn = rnn(input, h0)
        var rnn = new GRU(10, 20, 2);
        var r = rnn.forward(Tensor.randn(new Random4j(1), 5, 3, 10), Tensor.randn(new Random4j(2), 2, 3, 20));
        assertThat(r.output().shape()).containsExactly(5, 3, 20);
        assertThat(r.hN().shape()).containsExactly(2, 3, 20);

        Fixture fx = Fixture.load("gru_2layer_bidir");
        // rnn = nn.GRU(6, 8, 2, batch_first=True, bidirectional=True)
        var fixtureRnn = new GRU(RNNBase.Options.of(6, 8).numLayers(2).batchFirst(true).bidirectional(true));
        fixtureRnn.loadStateDict(fx.params(), true);
        // output, hn = rnn(input, h0)
        var out = fixtureRnn.forward(fx.input("input"), fx.input("h0"));
        close(fx, "output", out.output());
        close(fx, "h_n", out.hN());
    }

    @Test
    void lstm() {
        // rnn = nn.LSTM(10, 20, 2); input = torch.randn(5, 3, 10); h0 = torch.randn(2, 3, 20); c0 = torch.randn(2, 3, 20)
        var rnn = new LSTM(10, 20, 2);
        // output, (hn, cn) = rnn(input, (h0, c0))
        var r = rnn.forward(Tensor.randn(new Random4j(1), 5, 3, 10), Tensor.randn(new Random4j(2), 2, 3, 20),
                Tensor.randn(new Random4j(3), 2, 3, 20));
        assertThat(r.output().shape()).containsExactly(5, 3, 20);
        assertThat(r.hN().shape()).containsExactly(2, 3, 20);
        assertThat(r.cN().shape()).containsExactly(2, 3, 20);

        Fixture fx = Fixture.load("lstm_2layer_bidir");
        // rnn = nn.LSTM(6, 8, 2, batch_first=True, bidirectional=True)
        var fixtureRnn = new LSTM(RNNBase.Options.of(6, 8).numLayers(2).batchFirst(true).bidirectional(true));
        fixtureRnn.loadStateDict(fx.params(), true);
        // output, (hn, cn) = rnn(input, (h0, c0))
        var out = fixtureRnn.forward(fx.input("input"), fx.input("h0"), fx.input("c0"));
        close(fx, "output", out.output());
        close(fx, "h_n", out.hN());
        close(fx, "c_n", out.cN());
    }
}
