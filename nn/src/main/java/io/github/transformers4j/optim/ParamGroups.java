package io.github.transformers4j.optim;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.BiPredicate;

/** Ways to split a model's parameters into {@link ParamGroup}s. */
public final class ParamGroups {
    private ParamGroups() {}

    /**
     * Two groups, {@code [decay, noDecay]}: the first with {@code weight_decay = weightDecay}, the second with 0,
     * split by {@link #defaultNoDecay(Module)}. Both groups are always present (possibly empty), so checkpoints
     * have a fixed layout.
     */
    public static List<ParamGroup> weightDecaySplit(Module model, double weightDecay) {
        return weightDecaySplit(model, weightDecay, defaultNoDecay(model));
    }

    /** As above with a custom rule: {@code noDecay.test(name, parameter)} true puts the parameter in the second group. */
    public static List<ParamGroup> weightDecaySplit(Module model, double weightDecay, BiPredicate<String, Parameter> noDecay) {
        List<Parameter> decay = new ArrayList<>(), none = new ArrayList<>();
        model.namedParameters().forEach((name, p) -> (noDecay.test(name, p) ? none : decay).add(p));
        return List.of(ParamGroup.of(decay).weightDecay(weightDecay), ParamGroup.of(none).weightDecay(0));
    }

    /**
     * The usual rule (timm, nanoGPT, Hugging Face): no weight decay for
     * <ul>
     * <li>tensors of at most one dimension: biases, LayerNorm/BatchNorm weights, and 1-D scales;</li>
     * <li>parameters of embedding tables: those owned by a module whose class name contains {@code Embedding};</li>
     * <li>positional embeddings and special tokens by name: a parameter whose own name (after the last dot)
     * ends in {@code token} ({@code cls_token}, {@code mask_token}, {@code dist_token}) or contains {@code pos}
     * and {@code embed} ({@code pos_embed}, {@code pos_embedding}, {@code position_embeddings}).</li>
     * </ul>
     * Everything else (linear, convolution and attention projection matrices, {@code patch_embed.proj.weight})
     * is decayed.
     */
    public static BiPredicate<String, Parameter> defaultNoDecay(Module model) {
        Set<Parameter> inEmbeddings = Collections.newSetFromMap(new IdentityHashMap<>());
        model.apply(m -> {
            if (m.getClass().getSimpleName().contains("Embedding")) inEmbeddings.addAll(m.parameters());
        });
        return (name, p) -> {
            if (p.shape().length <= 1 || inEmbeddings.contains(p)) return true;
            String own = name.substring(name.lastIndexOf('.') + 1).toLowerCase(java.util.Locale.ROOT);
            return own.endsWith("token") || (own.contains("pos") && own.contains("embed"));
        };
    }
}
