package io.github.transformers4j.models.recurrent;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.vit.PatchEmbedding;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.recurrent.GRU;
import io.github.transformers4j.nn.recurrent.LSTM;
import io.github.transformers4j.nn.recurrent.RNN;
import io.github.transformers4j.nn.recurrent.RNNBase;
import io.github.transformers4j.nn.recurrent.RNNCell;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * A recurrent baseline over patch tokens ({@code gru-p16}, {@code lstm-p16}, {@code rnn-p16}), the {@code GRUImage} of
 * the PyTorch reference workloads:
 * <pre>
 * images -> patch_embed (Conv2d k = s = P, LayerNorm) -> (B, N, e) -> rnn (GRU | LSTM | RNN, batch-first)
 *   -> h_n of the last layer (both directions concatenated when bidirectional) -> fc Linear -> logits
 * </pre>
 * Keys: {@code patch_embed.proj.*}, {@code patch_embed.norm.*}, {@code rnn.weight_ih_l0} ... (PyTorch's names),
 * {@code fc.*}.
 */
public class RecurrentClassifier extends ImageClassifier {
    public final RecurrentConfig config;
    public final PatchEmbedding patchEmbed;
    public final RNNBase rnn;
    public final Linear fc;

    public RecurrentClassifier(RecurrentConfig c, Random4j rng) {
        this.config = c;
        patchEmbed = register("patch_embed", new PatchEmbedding(c.imageSize(), c.channels(), c.patchSize(), c.embedDim(), true, rng));
        var opts = RNNBase.Options.of(c.embedDim(), c.hiddenSize()).numLayers(c.numLayers()).batchFirst(true)
                .dropout(c.dropout()).bidirectional(c.bidirectional());
        rnn = register("rnn", switch (c.cell()) {
            case GRU -> new GRU(opts, rng);
            case LSTM -> new LSTM(opts, rng);
            case RNN -> new RNN(opts, RNNCell.Nonlinearity.TANH, rng);
        });
        fc = register("fc", new Linear(c.hiddenSize() * (c.bidirectional() ? 2 : 1), c.numClasses(), true, rng));
    }

    @Override
    public Tensor forward(Tensor images) {
        Tensor tokens = patchEmbed.forward(images); // (B, N, e)
        RNNBase.Output out = rnn.forward(tokens);
        Tensor hN = out.hN(); // (layers * directions, B, H)
        int last = hN.size(0) - 1;
        Tensor h = config.bidirectional() ? Tensor.cat(List.of(hN.select(0, last - 1), hN.select(0, last)), 1) : hN.select(0, last);
        return fc.forward(h);
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public RecurrentConfig config() {
        return config;
    }
}
