package io.github.transformers4j.train;

import io.github.transformers4j.tensor.Tensor;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * A PNG grid of images, one row per tensor (e.g. original / masked / reconstruction / reconstruction with the visible
 * patches pasted in), one column per sample, each image enlarged {@code scale} times, with a label per row.
 */
public final class ReconstructionGrid {
    private ReconstructionGrid() {}

    /**
     * @param rows   images (B, C, H, W) with values in [0, 1] (clamped), C = 1 (grey) or 3 (RGB); all rows of one shape
     * @param labels one label per row, drawn in a left margin
     * @return whether the labels were drawn: a machine without fonts (a bare GPU server) gets the grid without them
     */
    public static boolean write(Path png, List<Tensor> rows, List<String> labels, int scale) {
        if (rows.isEmpty() || rows.size() != labels.size())
            throw new IllegalArgumentException("ReconstructionGrid: " + rows.size() + " rows but " + labels.size() + " labels");
        int[] s = rows.get(0).shape();
        for (Tensor r : rows)
            if (!Arrays.equals(r.shape(), s) || s.length != 4 || (s[1] != 1 && s[1] != 3))
                throw new IllegalArgumentException("ReconstructionGrid: every row must be (B, 1|3, H, W) of one shape, got "
                        + Arrays.toString(r.shape()) + " and " + Arrays.toString(s));
        int b = s[0], c = s[1], h = s[2], w = s[3], gap = 2, margin = 110;
        int cellW = w * scale, cellH = h * scale;
        BufferedImage img = new BufferedImage(margin + b * (cellW + gap) + gap, rows.size() * (cellH + gap) + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        boolean text = true;
        for (int r = 0; r < rows.size(); r++) {
            float[] v = rows.get(r).contiguous().toFloatArray();
            int y0 = gap + r * (cellH + gap);
            if (text) text = drawLabel(g, labels.get(r), 6, y0 + cellH / 2 + 5);
            for (int i = 0; i < b; i++) {
                int x0 = margin + gap + i * (cellW + gap);
                for (int y = 0; y < cellH; y++)
                    for (int x = 0; x < cellW; x++) {
                        int py = y / scale, px = x / scale;
                        int rgb;
                        if (c == 1) {
                            int gray = level(v[(i * h + py) * w + px]);
                            rgb = gray << 16 | gray << 8 | gray;
                        } else {
                            int base = i * 3 * h * w + py * w + px;
                            rgb = level(v[base]) << 16 | level(v[base + h * w]) << 8 | level(v[base + 2 * h * w]);
                        }
                        img.setRGB(x0 + x, y0 + y, rgb);
                    }
            }
        }
        g.dispose();
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            ImageIO.write(img, "png", png.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
        return text;
    }

    /** Draws one label; false when the JDK finds no fonts (its font manager throws instead of drawing). */
    private static boolean drawLabel(Graphics2D g, String label, int x, int y) {
        try {
            g.drawString(label, x, y);
            return true;
        } catch (RuntimeException | LinkageError | InternalError e) {
            return false;
        }
    }

    private static int level(float v) {
        return Math.round(Math.max(0, Math.min(1, Float.isNaN(v) ? 0 : v)) * 255);
    }
}
