package io.github.transformers4j.data.text.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A token matched in the text before the model runs ({@code added_tokens} of tokenizer.json): special tokens such as
 * {@code <pad>} and {@code </s>}. {@code normalized = false} tokens are matched in the raw text, the others in the
 * normalized text; {@code lstrip}/{@code rstrip} also swallow the whitespace on that side; {@code singleWord} matches
 * only between word boundaries.
 */
public record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized, boolean special) {
    public static AddedToken special(int id, String content) {
        return new AddedToken(id, content, false, false, false, false, true);
    }

    AddedToken withId(int newId) {
        return new AddedToken(newId, content, singleWord, lstrip, rstrip, normalized, special);
    }

    static AddedToken fromJson(JsonNode n) {
        return new AddedToken(n.path("id").asInt(), n.path("content").asText(), n.path("single_word").asBoolean(false),
                n.path("lstrip").asBoolean(false), n.path("rstrip").asBoolean(false), n.path("normalized").asBoolean(true),
                n.path("special").asBoolean(false));
    }

    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", id);
        o.put("content", content);
        o.put("single_word", singleWord);
        o.put("lstrip", lstrip);
        o.put("rstrip", rstrip);
        o.put("normalized", normalized);
        o.put("special", special);
        return o;
    }
}
