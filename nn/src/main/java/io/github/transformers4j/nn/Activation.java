package io.github.transformers4j.nn;

import io.github.transformers4j.tensor.Tensor;
import java.util.Locale;

/** Activation of a feed-forward block (the {@code activation} argument of PyTorch's transformer layers). */
public enum Activation {
    RELU, GELU, GELU_TANH;

    public Tensor apply(Tensor x) {
        return switch (this) {
            case RELU -> x.relu();
            case GELU -> x.gelu();
            case GELU_TANH -> x.geluTanh();
        };
    }

    /** "relu", "gelu" or "gelu_tanh" (case-insensitive). */
    public static Activation of(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("activation must be relu, gelu or gelu_tanh, got '" + name + "'");
        }
    }
}
