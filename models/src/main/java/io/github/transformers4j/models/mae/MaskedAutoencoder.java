package io.github.transformers4j.models.mae;

import io.github.transformers4j.models.vit.VisionTransformer;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;

/**
 * Masked autoencoder (He et al. 2021, "Masked Autoencoders Are Scalable Vision Learners"), {@code mae-tiny}: hide a
 * random 75% of the patches, encode the visible ones, reconstruct all pixels with a light decoder, and score the
 * reconstruction on the hidden patches only:
 * <pre>
 * target = patchify(images) (B, N, C p^2)          (normalised per patch when normPixLoss: (t - mean) / sqrt(var + 1e-6))
 * loss   = sum_b,i mask[b, i] * mean_j (pred[b, i, j] - target[b, i, j])^2 / sum mask
 * </pre>
 * Keys: {@code encoder.*} (the encoder, a {@link VisionTransformer} of {@link MaeConfig#encoder()}, loaded by {@link MaeClassifier} for a linear probe or fine-tuning) and
 * {@code decoder.*} ({@link MaeDecoder}). The PyTorch twin is {@code MAE} in {@code tools/fixtures/models.py}.
 */
public class MaskedAutoencoder extends Module {
    /** The loss, the prediction (B, N, C p^2), the masking used and the encoder's output (B, 1 + K, D). */
    public record Output(Tensor loss, Tensor pred, Masking masking, Tensor latent) {}

    public final MaeConfig config;
    public final VisionTransformer encoder;
    public final MaeDecoder decoder;

    public MaskedAutoencoder(MaeConfig c, Random4j rng) {
        this.config = c;
        encoder = register("encoder", new VisionTransformer(c.encoder(), rng));
        decoder = register("decoder", new MaeDecoder(c, rng));
    }

    /** A training step's forward with fresh random masks drawn from {@code rng}. */
    public Output forward(Tensor images, Random4j rng) {
        return forward(images, Masking.random(rng, images.size(0), config.numPatches(), config.numVisible(), images.device()));
    }

    /** The forward with a given masking (e.g. a fixed ids_shuffle in tests). */
    public Output forward(Tensor images, Masking masking) {
        checkImages(images);
        Tensor latent = encoder.tokens(images, masking.idsKeep()); // (B, 1 + K, D)
        Tensor pred = decoder.forward(latent, masking.idsRestore());
        return new Output(loss(images, pred, masking.mask()), pred, masking, latent);
    }

    /** Mean squared error per patch, averaged over the hidden patches (mask 1). */
    public Tensor loss(Tensor images, Tensor pred, Tensor mask) {
        Tensor target = target(images);
        Tensor perPatch = pred.sub(target).square().mean(-1, false); // (B, N)
        return perPatch.mul(mask).sum().div(mask.sum());
    }

    /** The reconstruction target (B, N, C p^2): patchified pixels, normalised per patch with normPixLoss. */
    public Tensor target(Tensor images) {
        Tensor t = VisionTransformer.patchify(images, config.patchSize());
        if (!config.normPixLoss()) return t;
        Tensor mean = t.mean(-1, true), var = t.var(-1, true);
        return t.sub(mean).div(var.add(1e-6).sqrt());
    }

    /**
     * Predicted patches back to images (B, C, S, S). With normPixLoss the prediction is in normalised units: each patch
     * is mapped back with the mean and variance of the corresponding patch of {@code images} (for display only).
     */
    public Tensor reconstruct(Tensor pred, Tensor images) {
        Tensor p = pred;
        if (config.normPixLoss()) {
            Tensor t = VisionTransformer.patchify(images, config.patchSize());
            p = p.mul(t.var(-1, true).add(1e-6).sqrt()).add(t.mean(-1, true));
        }
        return VisionTransformer.unpatchify(p, config.patchSize(), config.channels(), config.imageSize());
    }

    private void checkImages(Tensor images) {
        int[] s = images.shape();
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.imageSize() || s[3] != config.imageSize())
            throw new IllegalArgumentException("MaskedAutoencoder: expected images (B, " + config.channels() + ", " + config.imageSize()
                    + ", " + config.imageSize() + "), got " + Arrays.toString(s));
    }
}
