package io.github.transformers4j.models.recurrent;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.models.vit.PatchEmbedding;
import io.github.transformers4j.nn.Choices;

/**
 * Configuration of a {@link RecurrentClassifier}.
 *
 * @param cell          {@code GRU}, {@code LSTM} or {@code RNN} (tanh)
 * @param embedDim      patch token width (Conv2d output channels)
 * @param hiddenSize    recurrent state width
 * @param numLayers     stacked recurrent layers
 * @param bidirectional also run the sequence backwards (the head then reads both final states)
 * @param dropout       dropout between stacked recurrent layers (PyTorch's {@code dropout} argument)
 */
public record RecurrentConfig(Cell cell, int imageSize, int channels, int patchSize, int embedDim, int hiddenSize,
                              int numLayers, boolean bidirectional, double dropout, int numClasses) {
    public RecurrentConfig {
        if (cell == null) throw new IllegalArgumentException("RecurrentConfig: cell is null (GRU, LSTM or RNN)");
        if (imageSize < 1 || channels < 1 || patchSize < 1 || embedDim < 1 || hiddenSize < 1 || numLayers < 1 || numClasses < 1)
            throw new IllegalArgumentException("RecurrentConfig: sizes must be positive: image " + imageSize + ", channels " + channels
                    + ", patch " + patchSize + ", embed " + embedDim + ", hidden " + hiddenSize + ", layers " + numLayers
                    + ", classes " + numClasses);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("RecurrentConfig: dropout must be in [0, 1), got " + dropout);
    }

    /** The recurrent layer. */
    public enum Cell {
        GRU, LSTM, RNN;

        /** The lower-case name ({@code gru}, ...), as presets and configuration files spell it. */
        @JsonValue
        public String id() {
            return Choices.id(this);
        }

        @JsonCreator
        public static Cell of(String s) {
            return Choices.parse(Cell.class, s, "cell");
        }
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
