package io.github.transformers4j.data.text;

/** One (document, summary) example of a sequence-to-sequence corpus; {@code id} names it (e.g. the Debian package). */
public record TextPair(String id, String document, String summary) {
    public TextPair {
        if (document == null || summary == null) throw new IllegalArgumentException("TextPair " + id + ": document and summary must not be null");
    }
}
