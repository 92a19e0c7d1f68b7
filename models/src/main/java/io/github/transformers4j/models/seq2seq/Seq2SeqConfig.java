package io.github.transformers4j.models.seq2seq;

import java.util.Locale;

/**
 * Configuration of a {@link Seq2SeqTransformer}.
 *
 * @param vocabSize          token ids are in [0, vocabSize) (from the tokenizer)
 * @param dModel             width of every token vector
 * @param numEncoderLayers   encoder depth
 * @param numDecoderLayers   decoder depth
 * @param nhead              attention heads (dModel must be divisible by nhead)
 * @param dimFeedforward     hidden width of the feed-forward blocks
 * @param dropout            residual, feed-forward and attention dropout inside every layer
 * @param maxPositions       longest sequence (source or target) the learned positions cover
 * @param padId              the padding token (its embedding row stays zero; its positions map to position 0)
 * @param eosId              end of sequence, also the decoder's start token (as T5)
 */
public record Seq2SeqConfig(int vocabSize, int dModel, int numEncoderLayers, int numDecoderLayers, int nhead, int dimFeedforward,
                            double dropout, int maxPositions, int padId, int eosId) {
    public Seq2SeqConfig {
        if (vocabSize < 2 || dModel < 1 || numEncoderLayers < 1 || numDecoderLayers < 1 || nhead < 1 || dimFeedforward < 1 || maxPositions < 1)
            throw new IllegalArgumentException(String.format(Locale.ROOT, "Seq2SeqConfig: sizes must be positive: vocab %d, d_model %d, "
                    + "layers %d+%d, heads %d, ffn %d, positions %d", vocabSize, dModel, numEncoderLayers, numDecoderLayers, nhead, dimFeedforward, maxPositions));
        if (dModel % nhead != 0) throw new IllegalArgumentException("Seq2SeqConfig: d_model " + dModel + " is not divisible by " + nhead + " heads");
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("Seq2SeqConfig: dropout must be in [0, 1), got " + dropout);
        if (padId < 0 || padId >= vocabSize || eosId < 0 || eosId >= vocabSize || padId == eosId)
            throw new IllegalArgumentException("Seq2SeqConfig: pad id " + padId + " and eos id " + eosId + " must differ and lie in [0, " + vocabSize + ")");
    }

    /** The {@code summarizer-4x512} preset: 4+4 post-norm layers, d_model 512, 8 heads, FFN 2048, dropout 0.1, 1024 positions. */
    public static Seq2SeqConfig summarizer4x512(int vocabSize, int padId, int eosId) {
        return new Seq2SeqConfig(vocabSize, 512, 4, 4, 8, 2048, 0.1, 1024, padId, eosId);
    }

    public Seq2SeqConfig withDropout(double p) {
        return new Seq2SeqConfig(vocabSize, dModel, numEncoderLayers, numDecoderLayers, nhead, dimFeedforward, p, maxPositions, padId, eosId);
    }
}
