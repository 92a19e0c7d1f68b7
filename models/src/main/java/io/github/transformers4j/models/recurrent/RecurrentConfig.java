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
        return toBuilder().imageSize(imageSize).channels(channels).numClasses(numClasses).build();
    }

    public RecurrentConfig withLayers(int numLayers, boolean bidirectional) {
        return toBuilder().numLayers(numLayers).bidirectional(bidirectional).build();
    }

    /** Defaults (gru-p16): a GRU of 128 over Conv2d patch tokens 16 of width 64, one layer, one direction, 32 x 32 x 3 images, 10 classes. */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().cell(cell).imageSize(imageSize).channels(channels).patchSize(patchSize).embedDim(embedDim).hiddenSize(hiddenSize)
                .numLayers(numLayers).bidirectional(bidirectional).dropout(dropout).numClasses(numClasses);
    }

    public static final class Builder {
        private Cell cell = Cell.GRU;
        private int imageSize = 32, channels = 3, patchSize = 16, embedDim = 64, hiddenSize = 128, numLayers = 1, numClasses = 10;
        private boolean bidirectional;
        private double dropout;

        public Builder cell(Cell v) { cell = v; return this; }
        public Builder imageSize(int v) { imageSize = v; return this; }
        public Builder channels(int v) { channels = v; return this; }
        public Builder patchSize(int v) { patchSize = v; return this; }
        public Builder embedDim(int v) { embedDim = v; return this; }
        public Builder hiddenSize(int v) { hiddenSize = v; return this; }
        public Builder numLayers(int v) { numLayers = v; return this; }
        public Builder bidirectional(boolean v) { bidirectional = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder numClasses(int v) { numClasses = v; return this; }

        public RecurrentConfig build() {
            return new RecurrentConfig(cell, imageSize, channels, patchSize, embedDim, hiddenSize, numLayers, bidirectional, dropout, numClasses);
        }
    }
}
