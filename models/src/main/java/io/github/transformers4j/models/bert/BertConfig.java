package io.github.transformers4j.models.bert;

import io.github.transformers4j.nn.Activation;

/**
 * Hugging Face's {@code BertConfig} (same fields in camelCase, same defaults except the sizes). {@code vocabSize} 0
 * builds an encoder fed with embeddings only (no word table, as the BERT blocks of a
 * {@link io.github.transformers4j.models.vit.VisionTransformer} use it), {@code typeVocabSize} 0 one without
 * token-type embeddings.
 *
 * @param vocabSize                 rows of the word-embedding table (0 = inputs_embeds only)
 * @param hiddenSize                width of every token
 * @param numHiddenLayers           encoder layers
 * @param numAttentionHeads         heads per layer
 * @param intermediateSize          feed-forward width
 * @param hiddenAct                 feed-forward activation ("gelu" in BERT: the erf form)
 * @param hiddenDropoutProb         dropout after the embeddings and after each sub-block
 * @param attentionProbsDropoutProb dropout on the attention weights
 * @param maxPositionEmbeddings     rows of the learned absolute position table
 * @param typeVocabSize             rows of the token-type (segment) table (2 in BERT, 0 = none)
 * @param layerNormEps              LayerNorm epsilon (1e-12 in BERT)
 * @param initializerRange          std of the normal initialisation of Linear and Embedding weights
 * @param padTokenId                the padding id (its word-embedding row gets no gradient)
 */
public record BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize,
                         Activation hiddenAct, double hiddenDropoutProb, double attentionProbsDropoutProb, int maxPositionEmbeddings,
                         int typeVocabSize, double layerNormEps, double initializerRange, int padTokenId) {
    public BertConfig {
        if (hiddenAct == null) hiddenAct = Activation.GELU; // configurations written before the field existed
        if (hiddenSize < 1 || numHiddenLayers < 1 || numAttentionHeads < 1 || intermediateSize < 1 || maxPositionEmbeddings < 1
                || vocabSize < 0 || typeVocabSize < 0)
            throw new IllegalArgumentException("BertConfig: sizes must be positive: vocab " + vocabSize + ", hidden " + hiddenSize
                    + ", layers " + numHiddenLayers + ", heads " + numAttentionHeads + ", intermediate " + intermediateSize
                    + ", positions " + maxPositionEmbeddings + ", token types " + typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0)
            throw new IllegalArgumentException("BertConfig: hidden size " + hiddenSize + " is not a multiple of the number of heads " + numAttentionHeads);
        if (!(hiddenDropoutProb >= 0 && hiddenDropoutProb < 1 && attentionProbsDropoutProb >= 0 && attentionProbsDropoutProb < 1))
            throw new IllegalArgumentException("BertConfig: dropout probabilities must be in [0, 1), got " + hiddenDropoutProb + ", " + attentionProbsDropoutProb);
        if (vocabSize > 0 && (padTokenId < 0 || padTokenId >= vocabSize))
            throw new IllegalArgumentException("BertConfig: pad token id " + padTokenId + " is outside the vocabulary of " + vocabSize);
    }

    /** An encoder fed with embeddings: BERT's defaults (GELU, dropout 0.1, eps 1e-12, init std 0.02), no word or type table. */
    public static BertConfig of(int hiddenSize, int layers, int heads, int intermediate, int maxPositions) {
        return new BertConfig(0, hiddenSize, layers, heads, intermediate, Activation.GELU, 0.1, 0.1, maxPositions, 0, 1e-12, 0.02, 0);
    }

    /** bert-base-uncased's sizes (vocabulary 30522, 768 wide, 12 layers, 12 heads, 3072, 512 positions, 2 token types). */
    public static BertConfig base() {
        return new BertConfig(30522, 768, 12, 12, 3072, Activation.GELU, 0.1, 0.1, 512, 2, 1e-12, 0.02, 0);
    }

    public BertConfig withDropout(double hidden, double attention) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hidden, attention,
                maxPositionEmbeddings, typeVocabSize, layerNormEps, initializerRange, padTokenId);
    }

    public BertConfig withMaxPositionEmbeddings(int positions) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, hiddenDropoutProb,
                attentionProbsDropoutProb, positions, typeVocabSize, layerNormEps, initializerRange, padTokenId);
    }
}
