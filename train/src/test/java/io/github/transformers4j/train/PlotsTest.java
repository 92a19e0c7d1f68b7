package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {
    static void fakeRun(Path dir, double scale) {
        try (MetricsLog log = MetricsLog.create(dir)) {
            long step = 0;
            for (int e = 1; e <= 3; e++) {
                for (int s = 0; s < 5; s++) {
                    step += 10;
                    log.log(MetricsRow.step(e, step, 1e-3, scale * 2.0 / (1 + step / 20.0)), Map.of());
                }
                log.log(MetricsRow.epoch(e, step, 1e-3, scale / e, 0.5 + 0.1 * e, scale * 1.1 / e, 0.45 + 0.1 * e), Map.of());
            }
            log.log(MetricsRow.test(3, step, 0.4, 0.74), Map.of());
        }
    }

    static BufferedImage png(Path p) throws Exception {
        assertThat(p).isRegularFile();
        assertThat(Files.size(p)).isGreaterThan(10_000);
        return ImageIO.read(p.toFile());
    }

    @Test
    void runPlotsAreWrittenAsReadablePngs(@TempDir Path run) throws Exception {
        fakeRun(run, 1);
        List<Path> written = Plots.writeRunPlots(run);
        assertThat(written).containsExactly(run.resolve("loss.png"), run.resolve("accuracy.png"));
        BufferedImage loss = png(run.resolve("loss.png"));
        assertThat(loss.getWidth()).isEqualTo(1000);
        assertThat(loss.getHeight()).isEqualTo(620);
        png(run.resolve("accuracy.png"));
    }

    @Test
    void confusionMatrixHeatMap(@TempDir Path dir) throws Exception {
        ConfusionMatrix m = ConfusionMatrix.of(new long[][] {{50, 3, 1}, {4, 40, 6}, {0, 7, 44}});
        Path p = Plots.confusionMatrix(m, List.of("cat", "dog", "bird"), dir.resolve("cm.png"), "Confusion matrix");
        BufferedImage img = png(p);
        assertThat(img.getWidth()).isGreaterThan(600);
    }

    @Test
    void compareOverlaysSeveralRuns(@TempDir Path root) throws Exception {
        Path a = root.resolve("a"), b = root.resolve("b");
        fakeRun(a, 1);
        fakeRun(b, 1.3);
        List<Path> written = Plots.compare(List.of(a, b), root);
        assertThat(written).containsExactly(root.resolve("compare_loss.png"), root.resolve("compare_accuracy.png"));
        png(root.resolve("compare_loss.png"));
        assertThatThrownBy(() -> Plots.compare(List.of(), root)).hasMessageContaining("no run folders");
        assertThat(Plots.labels(List.of(Path.of("/x/a/run"), Path.of("/x/b/run"), Path.of("/x/c")))).containsExactly("a/run", "b/run", "c");
    }
}
