package io.github.transformers4j.models.vit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.attention.WindowedEncoderLayer;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class VisionTransformerTest {
    static final ViTConfig SMALL = ViTConfig.builder().imageSize(8).channels(3).patchSize(4).dim(16).depth(2).heads(2).mlpDim(32).numClasses(5).build();

    /**
     * Parameters of the PyTorch twin (nn.Linear patch projection, cls token, positions, nn.TransformerEncoderLayer x depth,
     * nn.LayerNorm, nn.Linear head), with P = C p^2 values per patch, N patches, d width, m FFN width, k classes:
     * patch (P d + d) + cls d + pos (N + 1) d
     * + depth * [in_proj 3 d^2 + 3 d, out_proj d^2 + d, linear1 d m + m, linear2 m d + d, norm1 2 d, norm2 2 d]
     * + norm 2 d + head (d k + k).
     */
    static long formula(int c, int p, int n, int d, int depth, int m, int k) {
        long pdim = (long) c * p * p;
        long layer = (3L * d * d + 3L * d) + ((long) d * d + d) + ((long) d * m + m) + ((long) m * d + d) + 2L * d + 2L * d;
        return (pdim * d + d) + d + (long) (n + 1) * d + depth * layer + 2L * d + ((long) d * k + k);
    }

    /** timm's drop_path_rate: linspace(0, rate, depth) over the blocks, each block's two residual branches. */
    @Test
    void dropPathRisesLinearlyOverTheBlocks() {
        var encoder = new VisionTransformer(SMALL.toBuilder().depth(4).build(), new Random4j(0)).dropPath(0.3);
        var layers = ((io.github.transformers4j.nn.transformer.TransformerEncoder) encoder.blocks).layers;
        double[] rates = new double[4];
        for (int i = 0; i < 4; i++) rates[i] = layers.get(i).dropPath();
        assertThat(rates).containsExactly(new double[] {0, 0.1, 0.2, 0.3}, org.assertj.core.data.Offset.offset(1e-12));
        var einsum = new VisionTransformer(SMALL.toBuilder().blocks(ViTConfig.Blocks.EINSUM).normFirst(true).build(), new Random4j(0))
                .dropPath(0.2);
        var blocks = (io.github.transformers4j.nn.ModuleList<?>) einsum.blocks;
        assertThat(((EinsumBlock) blocks.get(0)).dropPath()).isZero();
        assertThat(((EinsumBlock) blocks.get(1)).dropPath()).isEqualTo(0.2);
        var one = new VisionTransformer(SMALL.toBuilder().depth(1).build(), new Random4j(0)).dropPath(0.5);
        assertThat(((io.github.transformers4j.nn.transformer.TransformerEncoder) one.blocks).layers.get(0).dropPath()).isZero();
        var bert = new VisionTransformer(SMALL.toBuilder().blocks(ViTConfig.Blocks.BERT).depth(3).build(), new Random4j(0)).dropPath(0.4);
        var bertLayers = ((io.github.transformers4j.models.bert.BertModel) bert.blocks).encoder.layer;
        assertThat(bertLayers.get(0).dropPath()).isZero();
        assertThat(bertLayers.get(1).dropPath()).isEqualTo(0.2, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(bertLayers.get(2).dropPath()).isEqualTo(0.4, org.assertj.core.data.Offset.offset(1e-12));
        assertThatThrownBy(() -> encoder.dropPath(1.5)).hasMessageContaining("drop path rate must be in [0, 1], got 1.5");
        // in training mode the model still trains (the draw is per sample); in eval mode drop path is off
        Tensor images = Tensor.randn(new Random4j(1), 3, 3, 8, 8);
        var plain = new VisionTransformer(SMALL.toBuilder().depth(4).build(), new Random4j(0));
        encoder.eval();
        plain.eval();
        assertThat(encoder.forward(images).toFloatArray()).containsExactly(plain.forward(images).toFloatArray());
    }

    /** A BERT layer with both branches dropped passes its input through its two post-norms only. */
    @Test
    void bertLayerDropPathDropsBothBranchesBeforeTheirNorms() {
        var c = io.github.transformers4j.models.bert.BertConfig.of(8, 1, 2, 16, 6).withDropout(0, 0);
        var bert = new io.github.transformers4j.models.bert.BertModel(c, new Random4j(3));
        var layer = bert.encoder.layer.get(0).dropPath(1);
        Tensor x = Tensor.randn(new Random4j(4), 2, 5, 8);
        Tensor y = layer.forward(x, null, false).output();
        Tensor expected = layer.output.layerNorm.forward(layer.attention.output.layerNorm.forward(x));
        assertThat(y.toFloatArray()).containsExactly(expected.toFloatArray());
        bert.eval(); // off in eval mode: the plain layer
        var plain = new io.github.transformers4j.models.bert.BertModel(c, new Random4j(3));
        plain.eval();
        assertThat(layer.forward(x, null, false).output().toFloatArray())
                .containsExactly(plain.encoder.layer.get(0).forward(x, null, false).output().toFloatArray());
    }

    @Test
    void parameterCountsMatchThePyTorchFormula() {
        var small = new VisionTransformer(SMALL, new Random4j(0));
        assertThat(small.numParameters()).isEqualTo(formula(3, 4, 4, 16, 2, 32, 5));

        var mini = ModelZoo.create("vit-mini-p4", 28, 1, 10, new Random4j(0));
        assertThat(mini.numParameters()).isEqualTo(formula(1, 4, 49, 128, 4, 512, 10)).isEqualTo(803_338L);

        var tiny = ModelZoo.create("vit-tiny-p4", 32, 3, 10, new Random4j(0));
        assertThat(tiny.numParameters()).isEqualTo(formula(3, 4, 64, 256, 4, 1024, 10));
        assertThat(ModelZoo.describe("vit-mini-p4", mini)).contains("803,338 parameters").contains("50 tokens");
    }

    @Test
    void stateDictKeysFollowPyTorchNames() {
        var m = new VisionTransformer(SMALL, new Random4j(0));
        assertThat(m.stateDict().keySet()).contains("cls_token", "pos_embed", "patch_embed.weight", "patch_embed.bias",
                "encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.1.linear2.bias", "encoder.layers.1.norm2.weight",
                "norm.weight", "head.weight", "head.bias");
        assertThat(m.stateDict().get("pos_embed").shape()).containsExactly(1, 5, 16);
        assertThat(m.stateDict().get("patch_embed.weight").shape()).containsExactly(16, 48);
    }

    @Test
    void forwardGivesLogitsPerImageForClsAndMeanPooling() {
        Tensor x = Tensor.randn(new Random4j(1), 3, 3, 8, 8);
        assertThat(new VisionTransformer(SMALL, new Random4j(0)).forward(x).shape()).containsExactly(3, 5);
        var mean = new VisionTransformer(SMALL.withPooling(Pooling.MEAN).withNormFirst(true), new Random4j(0));
        assertThat(mean.forward(x).shape()).containsExactly(3, 5);
        assertThat(mean.features(x).shape()).containsExactly(3, 16);
    }

    @Test
    void backwardReachesEveryParameter() {
        var m = new VisionTransformer(SMALL, new Random4j(0));
        Tensor x = Tensor.randn(new Random4j(1), 2, 3, 8, 8);
        m.forward(x).square().mean().backward();
        m.namedParameters().forEach((k, p) -> {
            assertThat(p.grad()).as(k).isNotNull();
            assertThat(p.grad().abs().sum().item()).as(k).isGreaterThan(0);
        });
    }

    @Test
    void patchifyTakesRowMajorPatchesChannelFirst() {
        // x[b, c, y, x] = 1000 b + 100 c + 10 y + x, images 2x2x4x4, patch 2
        float[] v = new float[2 * 2 * 4 * 4];
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int y = 0; y < 4; y++)
                    for (int xx = 0; xx < 4; xx++) v[((b * 2 + c) * 4 + y) * 4 + xx] = 1000 * b + 100 * c + 10 * y + xx;
        Tensor p = VisionTransformer.patchify(Tensor.of(v, 2, 2, 4, 4), 2);
        assertThat(p.shape()).containsExactly(2, 4, 8);
        // image 1, patch 3 = bottom-right (rows 2-3, cols 2-3): channel 0 then channel 1, each row-major
        assertThat(p.select(0, 1).select(0, 3).toFloatArray())
                .containsExactly(1022, 1023, 1032, 1033, 1122, 1123, 1132, 1133);
        // image 0, patch 1 = top-right
        assertThat(p.select(0, 0).select(0, 1).toFloatArray()).containsExactly(2, 3, 12, 13, 102, 103, 112, 113);
    }

    @Test
    void unpatchifyInvertsPatchify() {
        Tensor x = Tensor.randn(new Random4j(3), 2, 3, 8, 12);
        Tensor back = VisionTransformer.unpatchify(VisionTransformer.patchify(x, 4), 4, 3, 8);
        assertThat(back.shape()).containsExactly(2, 3, 8, 12);
        assertThat(back.toFloatArray()).containsExactly(x.toFloatArray());
    }

    @Test
    void wrongInputsGiveClearErrors() {
        var m = new VisionTransformer(SMALL, new Random4j(0));
        assertThatThrownBy(() -> m.forward(Tensor.zeros(2, 1, 8, 8))).hasMessageContaining("expected images (B, 3, 8, 8)")
                .hasMessageContaining("[2, 1, 8, 8]");
        assertThatThrownBy(() -> SMALL.toBuilder().imageSize(30).build()).hasMessageContaining("not a multiple of patch size 4");
        assertThat(SMALL.toBuilder().imageSize(30).patchEmbed(ViTConfig.PatchEmbed.CONV).build().gridSize()).as("a conv pads").isEqualTo(8);
        assertThatThrownBy(() -> SMALL.toBuilder().dim(18).heads(4).build()).hasMessageContaining("not divisible by heads");
        assertThatThrownBy(() -> SMALL.toBuilder().classToken(ViTConfig.ClassToken.NONE).build()).hasMessageContaining("cls pooling needs a class token");
        assertThatThrownBy(() -> SMALL.toBuilder().blocks(ViTConfig.Blocks.BERT).positions(Positions.LEARNED).build())
                .hasMessageContaining("BERT blocks add their own positions");
        assertThatThrownBy(() -> SMALL.toBuilder().classToken(ViTConfig.ClassToken.LAST).window(3, WindowedEncoderLayer.Impl.MASK).build())
                .hasMessageContaining("windowed attention needs");
        assertThatThrownBy(() -> SMALL.toBuilder().head(ViTConfig.Head.MLP).build()).hasMessageContaining("headHidden");
        assertThatThrownBy(() -> SMALL.toBuilder().pooling(Pooling.ALL).build()).hasMessageContaining("all-token pooling");
        assertThatThrownBy(() -> ModelZoo.preset("vit-huge")).hasMessageContaining("known: vit-mini-p4, vit-tiny-p4");
    }
}
