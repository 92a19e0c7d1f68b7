package io.github.transformers4j.nn.functional;

import io.github.transformers4j.tensor.Tensor;

/**
 * Result of an attention call: the output, and the attention weights when they were asked for (else null).
 * From {@link F#scaledDotProductAttention}: output (B, H, Lq, E), weights (B, H, Lq, Lk). From MultiheadAttention:
 * output (B, Lq, E) (or (Lq, B, E) when not batch-first), weights (B, Lq, Lk) averaged over heads or (B, H, Lq, Lk).
 */
public record Attention(Tensor output, Tensor weights) {}
