package io.github.transformers4j.data.vision.transforms;

import io.github.transformers4j.data.Compose;
import io.github.transformers4j.data.Transform;
import io.github.transformers4j.data.vision.Image;

/**
 * Image transforms by their torchvision names. A typical training pipeline:
 * <pre>{@code
 * Transform<Image, Image> train = Transforms.compose(
 *         Transforms.randomCrop(32, 4), Transforms.randomHorizontalFlip(0.5),
 *         Transforms.toTensor(), Transforms.normalize(CIFAR10_MEAN, CIFAR10_STD));
 * }</pre>
 */
public final class Transforms {
    private Transforms() {}

    @SafeVarargs
    public static Compose<Image> compose(Transform<Image, Image>... transforms) {
        return Transform.compose(transforms);
    }

    public static ToTensor toTensor() {
        return new ToTensor();
    }

    public static Normalize normalize(float[] mean, float[] std) {
        return new Normalize(mean, std);
    }

    public static RandomCrop randomCrop(int size, int padding) {
        return new RandomCrop(size, size, padding);
    }

    public static RandomCrop randomCrop(int height, int width, int padding) {
        return new RandomCrop(height, width, padding);
    }

    public static RandomHorizontalFlip randomHorizontalFlip(double p) {
        return new RandomHorizontalFlip(p);
    }

    /** {@link RandomErasing} with timm's defaults: area 2-33%, aspect 0.3-3.3, N(0, 1) noise; after {@link #normalize}. */
    public static RandomErasing randomErasing(double p) {
        return new RandomErasing(p);
    }

    public static Resize resize(int height, int width) {
        return new Resize(height, width);
    }

    /** The shorter side to {@code size}, keeping the aspect ratio (torchvision's {@code Resize(size)}). */
    public static Transform<Image, Image> resize(int size) {
        return Resize.shorterSide(size);
    }

    public static CenterCrop centerCrop(int size) {
        return new CenterCrop(size, size);
    }

    public static GrayscaleToRgb grayscaleToRgb() {
        return new GrayscaleToRgb();
    }
}
