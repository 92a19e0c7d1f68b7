package io.github.transformers4j.models.seq2seq;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Named encoder-decoder presets; vocabulary, special ids and positions come from the tokenizer and the run:
 * <ul>
 *   <li>{@code summarizer-4x512}: 4+4 post-norm layers, d_model 512, 8 heads, FFN 2048, dropout 0.1 (the benchmark model)</li>
 *   <li>{@code summarizer-tiny}: 2+2 layers, d_model 128, 4 heads, FFN 512, dropout 0.1 (sized for a CPU demo)</li>
 * </ul>
 */
public final class Seq2SeqPresets {
    private Seq2SeqPresets() {}

    public record Preset(String name, String description, int dModel, int encoderLayers, int decoderLayers, int heads, int ffn, double dropout) {
        public Seq2SeqConfig config(int vocabSize, int maxPositions, int padId, int eosId) {
            return new Seq2SeqConfig(vocabSize, dModel, encoderLayers, decoderLayers, heads, ffn, dropout, maxPositions, padId, eosId);
        }
    }

    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

    static {
        add(new Preset("summarizer-4x512", "encoder-decoder 4+4 layers, d_model 512, 8 heads, FFN 2048, dropout 0.1", 512, 4, 4, 8, 2048, 0.1));
        add(new Preset("summarizer-tiny", "encoder-decoder 2+2 layers, d_model 128, 4 heads, FFN 512, dropout 0.1 (sized for the CPU)",
                128, 2, 2, 4, 512, 0.1));
    }

    private static void add(Preset p) {
        PRESETS.put(p.name(), p);
    }

    public static boolean has(String name) {
        return name != null && PRESETS.containsKey(name.toLowerCase(Locale.ROOT));
    }

    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    public static List<Preset> all() {
        return List.copyOf(PRESETS.values());
    }

    public static Preset preset(String name) {
        Preset p = PRESETS.get(name.toLowerCase(Locale.ROOT));
        if (p == null) throw new IllegalArgumentException("unknown seq2seq model '" + name + "'; known: " + String.join(", ", names()));
        return p;
    }
}
