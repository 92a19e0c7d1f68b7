package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.nn.Choices;

/** Position embeddings {@code pos_embed} (1, tokens, d): a learned parameter (trunc-normal std 0.02), a fixed 1-D sinusoidal buffer, or none. */
public enum Positions {
    LEARNED, SINCOS, NONE;

    /** The lower-case name, as configuration files and fixtures spell it. */
    @JsonValue
    public String id() {
        return Choices.id(this);
    }

    @JsonCreator
    public static Positions of(String s) {
        return Choices.parse(Positions.class, s, "positions");
    }
}
