package io.github.transformers4j.models.recurrent;

import io.github.transformers4j.models.vit.PatchEmbedding;
import java.util.Locale;

/**
 * Configuration of a {@link RecurrentClassifier}.
 *
 * @param cell          {@code gru}, {@code lstm} or {@code rnn} (tanh)
 * @param embedDim      patch token width (Conv2d output channels)
 * @param hiddenSize    recurrent state width
 * @param numLayers     stacked recurrent layers
 * @param bidirectional also run the sequence backwards (the head then reads both final states)
 * @param dropout       dropout between stacked recurrent layers (PyTorch's {@code dropout} argument)
 */
public record RecurrentConfig(String cell, int imageSize, int channels, int patchSize, int embedDim, int hiddenSize,
                              int numLayers, boolean bidirectional, double dropout, int numClasses) {
    public RecurrentConfig {
        cell = cell.toLowerCase(Locale.ROOT);
        if (!cell.equals("gru") && !cell.equals("lstm") && !cell.equals("rnn"))
            throw new IllegalArgumentException("RecurrentConfig: cell must be gru, lstm or rnn, got '" + cell + "'");
        if (imageSize < 1 || channels < 1 || patchSize < 1 || embedDim < 1 || hiddenSize < 1 || numLayers < 1 || numClasses < 1)
            throw new IllegalArgumentException("RecurrentConfig: sizes must be positive: image " + imageSize + ", channels " + channels
                    + ", patch " + patchSize + ", embed " + embedDim + ", hidden " + hiddenSize + ", layers " + numLayers
                    + ", classes " + numClasses);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("RecurrentConfig: dropout must be in [0, 1), got " + dropout);
    }

    /** Patch tokens, i.e. time steps of the recurrent layer. */
    public int numPatches() {
        int g = PatchEmbedding.gridFor(imageSize, patchSize);
        return g * g;
    }

    public RecurrentConfig withData(int imageSize, int channels, int numClasses) {
        return new RecurrentConfig(cell, imageSize, channels, patchSize, embedDim, hiddenSize, numLayers, bidirectional, dropout, numClasses);
    }

    public RecurrentConfig withLayers(int numLayers, boolean bidirectional) {
        return new RecurrentConfig(cell, imageSize, channels, patchSize, embedDim, hiddenSize, numLayers, bidirectional, dropout, numClasses);
    }
}
