package io.github.transformers4j.models.mae;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.nn.Linear;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Classification from an MAE encoder's class token ({@code t4j train --model mae-tiny}): all patches through the
 * MAE encoder ({@link MaeConfig#encoder()}), then {@code head} = Linear(D, classes) on the normalised class token. Two ways to use a
 * pre-trained encoder ({@link #loadEncoder}):
 * <ul>
 *   <li>fine-tuning: everything trains;</li>
 *   <li>linear probe ({@link #freezeEncoder(boolean)}): the encoder runs under {@link Grad#disabled()}, so it records
 *       no graph, gets no gradients and is never updated; only the head learns.</li>
 * </ul>
 * Keys: {@code encoder.*} (the same as in {@link MaskedAutoencoder}) and {@code head.*}.
 */
public class MaeClassifier extends ImageClassifier {
    public final MaeConfig config;
    public final VisionTransformer encoder;
    public final Linear head;
    private boolean frozen;

    public MaeClassifier(MaeConfig c, Random4j rng) {
        this.config = c;
        encoder = register("encoder", new VisionTransformer(c.encoder(), rng));
        head = register("head", new Linear(c.encoderDim(), c.numClasses(), true, rng));
    }

    /** Linear probe on (true) or fine-tuning (false). */
    public MaeClassifier freezeEncoder(boolean on) {
        this.frozen = on;
        return this;
    }

    public boolean encoderFrozen() {
        return frozen;
    }

    /**
     * Copies the {@code encoder.*} entries of a {@link MaskedAutoencoder} state dict (a pre-training checkpoint; the
     * {@code decoder.*} entries are ignored) into this encoder, strictly: every encoder key must be there, with its shape.
     */
    public void loadEncoder(Map<String, Tensor> maeState) {
        Map<String, Tensor> enc = new LinkedHashMap<>();
        maeState.forEach((k, v) -> {
            if (k.startsWith("encoder.")) enc.put(k.substring("encoder.".length()), v);
        });
        if (enc.isEmpty())
            throw new IllegalArgumentException("MaeClassifier.loadEncoder: no 'encoder.*' keys in the state dict (keys: "
                    + maeState.keySet().stream().limit(5).toList() + (maeState.size() > 5 ? ", ..." : "") + ")");
        encoder.loadStateDict(enc, true);
    }

    @Override
    public Tensor forward(Tensor images) {
        Tensor cls;
        if (frozen) {
            try (var g = Grad.disabled()) {
                cls = encoder.features(images);
            }
        } else {
            cls = encoder.features(images);
        }
        return head.forward(cls);
    }

    /** The parameters that train: only the head's when the encoder is frozen. */
    public Map<String, Parameter> trainableParameters() {
        if (!frozen) return namedParameters();
        Map<String, Parameter> out = new LinkedHashMap<>();
        head.namedParameters().forEach((k, p) -> out.put("head." + k, p));
        return out;
    }

    @Override
    public int numClasses() {
        return config.numClasses();
    }

    @Override
    public MaeConfig config() {
        return config;
    }
}
