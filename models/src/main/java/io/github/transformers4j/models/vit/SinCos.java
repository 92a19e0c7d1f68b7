package io.github.transformers4j.models.vit;

import io.github.transformers4j.tensor.Tensor;

/** Fixed sinusoidal position encodings ("Attention Is All You Need", section 3.5). */
public final class SinCos {
    private SinCos() {}

    /**
     * (positions, dim): {@code pe[p, 2i] = sin(p / 10000^(2i / dim))}, {@code pe[p, 2i + 1] = cos(p / 10000^(2i / dim))}
     * (the PyTorch tutorial's {@code PositionalEncoding}); dim must be even. Computed in double, stored as F32.
     */
    public static Tensor encoding1d(int positions, int dim) {
        if (positions < 1 || dim < 2 || dim % 2 != 0)
            throw new IllegalArgumentException("SinCos.encoding1d: need positions >= 1 and an even dim >= 2, got " + positions + ", " + dim);
        float[] pe = new float[positions * dim];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < dim / 2; i++) {
                double angle = p * Math.exp(-Math.log(10000.0) * (2.0 * i) / dim);
                pe[p * dim + 2 * i] = (float) Math.sin(angle);
                pe[p * dim + 2 * i + 1] = (float) Math.cos(angle);
            }
        }
        return Tensor.of(pe, positions, dim);
    }
}
