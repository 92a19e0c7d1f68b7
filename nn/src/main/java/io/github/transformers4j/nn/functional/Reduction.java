package io.github.transformers4j.nn.functional;

import java.util.Locale;

/** How a loss reduces its per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    MEAN, SUM, NONE;

    /** "mean", "sum" or "none". */
    public static Reduction of(String name) {
        try {
            return valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reduction must be mean, sum or none, got '" + name + "'");
        }
    }
}
