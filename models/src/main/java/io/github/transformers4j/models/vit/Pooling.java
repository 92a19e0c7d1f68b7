package io.github.transformers4j.models.vit;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/** What a vision transformer's head reads: the class token, or the mean of the patch tokens (no class token then). */
public enum Pooling {
    CLS, MEAN;

    /** The lower-case name ({@code cls}, {@code mean}): configuration files and fixtures spell it so. */
    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Pooling of(String s) {
        for (Pooling p : values()) if (p.id().equalsIgnoreCase(s)) return p;
        throw new IllegalArgumentException("pooling must be one of " + Arrays.stream(values()).map(Pooling::id).toList() + ", got '" + s + "'");
    }
}
