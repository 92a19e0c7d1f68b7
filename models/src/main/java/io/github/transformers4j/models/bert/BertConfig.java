package io.github.transformers4j.models.bert;

/**
 * The fields of Hugging Face's {@code BertConfig} that the encoder uses (same names in camelCase, same defaults
 * except the sizes).
 *
 * @param hiddenSize                width of every token
 * @param numHiddenLayers           encoder layers
 * @param numAttentionHeads         heads per layer
 * @param intermediateSize          feed-forward width
 * @param hiddenDropoutProb         dropout after the embeddings and after each sub-block
 * @param attentionProbsDropoutProb dropout on the attention weights
 * @param maxPositionEmbeddings     rows of the learned absolute position table
 * @param layerNormEps              LayerNorm epsilon (1e-12 in BERT)
 * @param initializerRange          std of the normal initialisation of Linear and Embedding weights
 */
public record BertConfig(int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         double hiddenDropoutProb, double attentionProbsDropoutProb, int maxPositionEmbeddings,
                         double layerNormEps, double initializerRange) {
    public BertConfig {
        if (hiddenSize < 1 || numHiddenLayers < 1 || numAttentionHeads < 1 || intermediateSize < 1 || maxPositionEmbeddings < 1)
            throw new IllegalArgumentException("BertConfig: sizes must be positive: hidden " + hiddenSize + ", layers " + numHiddenLayers
                    + ", heads " + numAttentionHeads + ", intermediate " + intermediateSize + ", positions " + maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("BertConfig: hidden size " + hiddenSize + " is not a multiple of the number of heads " + numAttentionHeads);
        if (!(hiddenDropoutProb >= 0 && hiddenDropoutProb < 1 && attentionProbsDropoutProb >= 0 && attentionProbsDropoutProb < 1))
            throw new IllegalArgumentException("BertConfig: dropout probabilities must be in [0, 1), got " + hiddenDropoutProb + ", " + attentionProbsDropoutProb);
    }

    /** BERT's defaults (GELU, dropout 0.1, eps 1e-12, init std 0.02) with the given sizes. */
    public static BertConfig of(int hiddenSize, int layers, int heads, int intermediate, int maxPositions) {
        return new BertConfig(hiddenSize, layers, heads, intermediate, 0.1, 0.1, maxPositions, 1e-12, 0.02);
    }

    public BertConfig withDropout(double hidden, double attention) {
        return new BertConfig(hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hidden, attention,
                maxPositionEmbeddings, layerNormEps, initializerRange);
    }
}
