package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.nn.Choices;

/** What a vision transformer's head reads: the class token, or the mean of the patch tokens (no class token then). */
public enum Pooling {
    CLS, MEAN;

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
