package io.github.transformers4j.models.seq2seq;

/**
 * The size of an encoder-decoder preset; the vocabulary, special ids and positions come from the tokenizer and the run
 * ({@link #config}).
 */
public record Seq2SeqSize(int dModel, int encoderLayers, int decoderLayers, int heads, int ffn, double dropout) {
    public Seq2SeqConfig config(int vocabSize, int maxPositions, int padId, int eosId) {
        return new Seq2SeqConfig(vocabSize, dModel, encoderLayers, decoderLayers, heads, ffn, dropout, maxPositions, padId, eosId);
    }
}
