package io.github.transformers4j.models.seq2seq;

/**
 * How {@link Generator} decodes.
 *
 * @param maxLength          most generated tokens per sequence (EOS included)
 * @param minLength          EOS is forbidden before this many tokens
 * @param beamSize           1 = greedy search; more = beam search with this many beams per example
 * @param lengthPenalty      beam search ranks finished hypotheses by sum of log-probs / length^lengthPenalty
 *                           (above 1 favours longer outputs, below 1 shorter ones)
 * @param noRepeatNgramSize  forbid any n-gram of this size from appearing twice in an output (0 = off)
 * @param useCache           decode incrementally with cached keys and values (false recomputes the whole prefix every
 *                           step: slower, for checking)
 */
public record GenerationConfig(int maxLength, int minLength, int beamSize, double lengthPenalty, int noRepeatNgramSize, boolean useCache) {
    public GenerationConfig {
        if (maxLength < 1) throw new IllegalArgumentException("generation: maxLength must be >= 1, got " + maxLength);
        if (minLength < 0 || minLength > maxLength) throw new IllegalArgumentException("generation: minLength must be in [0, maxLength], got " + minLength);
        if (beamSize < 1) throw new IllegalArgumentException("generation: beamSize must be >= 1, got " + beamSize);
        if (noRepeatNgramSize < 0) throw new IllegalArgumentException("generation: noRepeatNgramSize must be >= 0, got " + noRepeatNgramSize);
    }

    public static GenerationConfig greedy(int maxLength) {
        return new GenerationConfig(maxLength, 0, 1, 1.0, 0, true);
    }

    public static GenerationConfig beam(int beamSize, int maxLength) {
        return new GenerationConfig(maxLength, 0, beamSize, 1.0, 0, true);
    }

    public GenerationConfig withCache(boolean on) {
        return new GenerationConfig(maxLength, minLength, beamSize, lengthPenalty, noRepeatNgramSize, on);
    }

    public GenerationConfig withNoRepeatNgramSize(int n) {
        return new GenerationConfig(maxLength, minLength, beamSize, lengthPenalty, n, useCache);
    }

    public GenerationConfig withLengthPenalty(double p) {
        return new GenerationConfig(maxLength, minLength, beamSize, p, noRepeatNgramSize, useCache);
    }

    public GenerationConfig withMinLength(int n) {
        return new GenerationConfig(maxLength, n, beamSize, lengthPenalty, noRepeatNgramSize, useCache);
    }
}
