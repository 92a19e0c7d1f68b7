package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.nn.Choices;

/** What a vision transformer's head reads. */
public enum Pooling {
    /** the class token */
    CLS,
    /** the mean of the patch tokens (the class token, if any, left out): global average pooling */
    MEAN,
    /** every token, flattened to (B, tokens * d) */
    ALL;

    /** The lower-case name, as configuration files and fixtures spell it. */
    @JsonValue
    public String id() {
        return Choices.id(this);
    }

    @JsonCreator
    public static Pooling of(String s) {
        return Choices.parse(Pooling.class, s, "pooling");
    }
}
