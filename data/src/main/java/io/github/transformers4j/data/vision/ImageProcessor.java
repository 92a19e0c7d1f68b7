package io.github.transformers4j.data.vision;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A Hugging Face image processor ({@code preprocessor_config.json} of ViT-style models): resize to
 * {@code height x width} with PIL's antialiased filter, rescale (x / 255), normalise ((x - mean) / std).
 * {@link #preprocess} turns images of pixel values 0..255 (as datasets and {@link ImageFolder#read} give them) into
 * the model's {@code pixel_values} (B, C, height, width).
 *
 * @param resample PIL's filter code: 2 = bilinear (ViT's default), 3 = bicubic
 */
public record ImageProcessor(boolean doResize, int height, int width, int resample, boolean doRescale, double rescaleFactor,
                             boolean doNormalize, float[] imageMean, float[] imageStd) {
    public static final String FILE = "preprocessor_config.json";

    /** ViTImageProcessor's defaults at this size: bilinear, 1/255, mean and std 0.5. */
    public static ImageProcessor vit(int size) {
        return new ImageProcessor(true, size, size, 2, true, 1 / 255.0, true, new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f});
    }

    /** Reads {@code dir/preprocessor_config.json}; without one, ViT's defaults at {@code defaultSize}. */
    public static ImageProcessor fromPretrained(Path dir, int defaultSize) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) return vit(defaultSize);
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        int h = defaultSize, w = defaultSize;
        JsonNode size = n.get("size");
        if (size != null && size.isObject()) {
            if (size.has("height") && size.has("width")) {
                h = size.get("height").asInt();
                w = size.get("width").asInt();
            } else if (size.has("shortest_edge")) {
                throw new IllegalArgumentException(file + ": \"size\": {\"shortest_edge\"} (resize then crop) is not supported; only {height, width}");
            }
        } else if (size != null && size.isInt()) {
            h = w = size.asInt();
        }
        int resample = n.path("resample").asInt(2);
        if (resample != 2 && resample != 3)
            throw new IllegalArgumentException(file + ": \"resample\" = " + resample + " is not supported (2 = bilinear, 3 = bicubic)");
        return new ImageProcessor(n.path("do_resize").asBoolean(true), h, w, resample, n.path("do_rescale").asBoolean(true),
                n.path("rescale_factor").asDouble(1 / 255.0), n.path("do_normalize").asBoolean(true), floats(n, "image_mean", file),
                floats(n, "image_std", file));
    }

    private static float[] floats(JsonNode n, String key, Path file) {
        JsonNode a = n.get(key);
        if (a == null || a.isNull()) return new float[] {0.5f, 0.5f, 0.5f};
        if (a.isNumber()) return new float[] {a.floatValue(), a.floatValue(), a.floatValue()};
        if (!a.isArray() || a.isEmpty()) throw new IllegalArgumentException(file + ": \"" + key + "\" must be a number or a list of numbers");
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = a.get(i).floatValue();
        return f;
    }

    /** Images with pixel values 0..255 (grey ones are repeated to the channels of the mean) -> pixel_values (B, C, H, W). */
    public Tensor preprocess(List<Image> images) {
        int c = imageMean.length;
        float[] out = new float[images.size() * c * height * width];
        for (int i = 0; i < images.size(); i++) {
            Image im = images.get(i);
            if (doResize) im = Resample.resize(im, height, width, resample == 3 ? Resample.Filter.BICUBIC : Resample.Filter.BILINEAR);
            if (im.height() != height || im.width() != width)
                throw new IllegalArgumentException("ImageProcessor: image " + i + " is " + im.height() + "x" + im.width() + ", expected " + height + "x" + width);
            if (im.channels() != c && im.channels() != 1)
                throw new IllegalArgumentException("ImageProcessor: image " + i + " has " + im.channels() + " channels, the model takes " + c);
            int plane = height * width;
            for (int ch = 0; ch < c; ch++) {
                int src = (im.channels() == 1 ? 0 : ch) * plane, dst = (i * c + ch) * plane;
                for (int p = 0; p < plane; p++) {
                    double v = im.pixels()[src + p];
                    if (doRescale) v *= rescaleFactor;
                    if (doNormalize) v = (v - imageMean[ch]) / imageStd[ch];
                    out[dst + p] = (float) v;
                }
            }
        }
        return Tensor.of(out, images.size(), c, height, width);
    }
}
