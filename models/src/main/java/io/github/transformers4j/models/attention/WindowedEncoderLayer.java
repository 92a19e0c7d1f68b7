package io.github.transformers4j.models.attention;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.transformer.TransformerEncoderLayer;
import io.github.transformers4j.nn.transformer.TransformerLayerConfig;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * A {@link TransformerEncoderLayer} (same submodules, same state-dict keys, same initialisation) whose self-attention is
 * restricted to a {@link WindowAttention} window: with {@link Impl#MASK} through a (L, L) mask on ordinary attention,
 * with {@link Impl#BLOCKED} through the gathered-neighbour kernel whose cost grows with N K^2 rather than N^2.
 * Inputs are batch-first (B, L, d).
 */
public class WindowedEncoderLayer extends TransformerEncoderLayer {
    public enum Impl {
        MASK, BLOCKED;

        @com.fasterxml.jackson.annotation.JsonValue
        public String id() {
            return io.github.transformers4j.nn.Choices.id(this);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Impl of(String s) {
            return io.github.transformers4j.nn.Choices.parse(Impl.class, s, "windowImpl");
        }
    }

    public final WindowAttention window;
    public final Impl impl;
    private final Random4j rng;
    private Device cachedOn;
    private Tensor mask;
    private WindowAttention.Neighbours neighbours;

    public WindowedEncoderLayer(TransformerLayerConfig c, WindowAttention window, Impl impl, Random4j rng) {
        super(c, rng);
        if (!c.batchFirst()) throw new IllegalArgumentException("WindowedEncoderLayer: needs batch-first inputs (batchFirst = true)");
        this.window = window;
        this.impl = impl;
        this.rng = rng;
    }

    /** The window is the only mask: extra masks are refused rather than silently combined. */
    @Override
    public Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask, boolean isCausal) {
        if (srcMask != null || srcKeyPaddingMask != null || isCausal)
            throw new IllegalArgumentException("WindowedEncoderLayer: extra attention masks are not supported (the window is the mask)");
        if (src.dim() != 3 || src.size(1) != window.length())
            throw new IllegalArgumentException("WindowedEncoderLayer: expected (B, " + window.length() + ", " + config.dModel()
                    + ") for a " + window.gridH() + " x " + window.gridW() + " grid with " + window.prefix() + " prefix tokens, got "
                    + java.util.Arrays.toString(src.shape()));
        cache(src.device());
        if (impl == Impl.MASK) return super.forward(src, mask, null, false);
        Tensor x = src;
        if (config.normFirst()) {
            x = x.add(branch(dropout1.forward(blockedAttention(norm1.forward(x)))));
            x = x.add(branch(ffBlock(norm2.forward(x))));
        } else {
            x = norm1.forward(x.add(branch(dropout1.forward(blockedAttention(x)))));
            x = norm2.forward(x.add(branch(ffBlock(x))));
        }
        return x;
    }

    private void cache(Device device) {
        if (device.equals(cachedOn)) return;
        Tensor m = window.mask(device).keep();
        WindowAttention.Neighbours nb = window.neighbours(device);
        nb.index().keep();
        nb.invalid().keep();
        mask = m;
        neighbours = nb;
        cachedOn = device;
    }

    /** x (B, L, d) -> packed q, k, v projection (selfAttn's weights) -> windowed attention per head -> out_proj. */
    private Tensor blockedAttention(Tensor x) {
        int b = x.size(0), l = x.size(1), d = config.dModel(), h = selfAttn.numHeads, e = d / h;
        Tensor qkv = F.linear(x, selfAttn.inProjWeight.data(), selfAttn.inProjBias == null ? null : selfAttn.inProjBias.data());
        Tensor heads = qkv.view(b, l, 3, h, e).permute(2, 0, 3, 1, 4); // (3, B, H, L, E)
        double p = isTraining() ? selfAttn.dropout : 0;
        Tensor o = window.attention(heads.select(0, 0), heads.select(0, 1), heads.select(0, 2), neighbours, p, rng);
        return selfAttn.outProj.forward(o.transpose(1, 2).reshape(b, l, d));
    }

    private Tensor ffBlock(Tensor x) {
        return dropout2.forward(linear2.forward(dropout.forward(linear1.forward(x, config.activation()))));
    }
}
