package io.github.transformers4j.models.gpt2;

import io.github.transformers4j.nn.Activation;

/**
 * Hugging Face's {@code GPT2Config} (same fields in camelCase, same defaults: {@link #gpt2()} is the 124M model).
 *
 * @param vocabSize                   tokens (50257)
 * @param nPositions                  rows of the learned position table (1024): the longest sequence
 * @param nEmbd                       width
 * @param nLayer                      blocks
 * @param nHead                       heads per block
 * @param nInner                      feed-forward width (HF's null = 4 * nEmbd)
 * @param activationFunction          feed-forward activation ("gelu_new": the tanh form)
 * @param residPdrop                  dropout after each sub-block
 * @param embdPdrop                   dropout after the embeddings
 * @param attnPdrop                   dropout on the attention weights
 * @param layerNormEpsilon            LayerNorm epsilon
 * @param initializerRange            std of the normal initialisation
 * @param scaleAttnWeights            scores divided by sqrt(head dim)
 * @param scaleAttnByInverseLayerIdx  scores also divided by (layer index + 1)
 * @param bosTokenId                  beginning of text (50256, "<|endoftext|>")
 * @param eosTokenId                  end of text (50256)
 */
public record GPT2Config(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead, int nInner, Activation activationFunction,
                         double residPdrop, double embdPdrop, double attnPdrop, double layerNormEpsilon, double initializerRange,
                         boolean scaleAttnWeights, boolean scaleAttnByInverseLayerIdx, int bosTokenId, int eosTokenId) {
    public GPT2Config {
        if (vocabSize < 1 || nPositions < 1 || nEmbd < 1 || nLayer < 1 || nHead < 1 || nInner < 1)
            throw new IllegalArgumentException("GPT2Config: sizes must be positive: vocab " + vocabSize + ", positions " + nPositions
                    + ", width " + nEmbd + ", layers " + nLayer + ", heads " + nHead + ", inner " + nInner);
        if (nEmbd % nHead != 0)
            throw new IllegalArgumentException("GPT2Config: width " + nEmbd + " is not a multiple of the number of heads " + nHead);
        for (double p : new double[] {residPdrop, embdPdrop, attnPdrop})
            if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("GPT2Config: dropout probabilities must be in [0, 1), got " + p);
    }

    /** The 124M GPT-2 ("gpt2"). */
    public static GPT2Config gpt2() {
        return of(50257, 1024, 768, 12, 12);
    }

    /** GPT-2's defaults (gelu_new, dropout 0.1, eps 1e-5, inner 4 * width, token 50256 capped to the vocabulary) with these sizes. */
    public static GPT2Config of(int vocabSize, int nPositions, int nEmbd, int nLayer, int nHead) {
        int eos = Math.min(50256, vocabSize - 1);
        return new GPT2Config(vocabSize, nPositions, nEmbd, nLayer, nHead, 4 * nEmbd, Activation.GELU_TANH, 0.1, 0.1, 0.1, 1e-5, 0.02,
                true, false, eos, eos);
    }

    public int headDim() {
        return nEmbd / nHead;
    }
}
