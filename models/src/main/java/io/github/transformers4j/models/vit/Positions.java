package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** Position embeddings: a learned parameter (trunc-normal std 0.02) or a fixed 1-D sinusoidal buffer. */
public enum Positions {
    LEARNED, SINCOS;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Positions of(String s) {
        for (Positions p : values()) if (p.id().equalsIgnoreCase(s)) return p;
        throw new IllegalArgumentException("positions must be one of " + Arrays.stream(values()).map(Positions::id).toList() + ", got '" + s + "'");
    }
}
