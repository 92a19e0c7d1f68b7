package io.github.transformers4j.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * PNG charts of a run, drawn with XChart from its metrics.csv (so any finished or interrupted run can be plotted
 * again): {@code loss.png} (training loss per step and per epoch, validation loss per epoch), {@code accuracy.png}
 * (training and validation accuracy per epoch, test accuracy) and {@code confusion_matrix.png}; and overlays of
 * several runs ({@link #compare}). The x axis is in epochs; step points sit at fractional epochs.
 */
public final class Plots {
    public static final String LOSS = "loss.png", ACCURACY = "accuracy.png", CONFUSION = "confusion_matrix.png";
    private static final int WIDTH = 1000, HEIGHT = 620;
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Plots() {}

    /** Writes loss.png and accuracy.png into {@code runDir} from its metrics.csv; returns the files written. */
    public static List<Path> writeRunPlots(Path runDir) {
        List<MetricsRow> rows = MetricsLog.read(runDir);
        List<Path> written = new ArrayList<>();
        Curves c = Curves.of(rows);
        if (c.epochs.isEmpty() && c.stepX.isEmpty()) return written;

        XYChart loss = chart("Loss - " + runDir.toAbsolutePath().normalize().getFileName(), "epoch", "cross-entropy loss");
        if (!c.stepX.isEmpty()) line(loss, "train (per step)", c.stepX, c.stepLoss, new Color(0x9ecae1), 1f, false, null);
        line(loss, "train (epoch mean)", c.epochs, c.trainLoss, PALETTE[0], 2.5f, true, null);
        line(loss, "validation", c.epochs, c.valLoss, PALETTE[1], 2.5f, true, null);
        written.add(save(loss, runDir.resolve(LOSS)));

        XYChart acc = chart("Accuracy - " + runDir.toAbsolutePath().normalize().getFileName(), "epoch", "accuracy (%)");
        line(acc, "train", c.epochs, c.trainAcc, PALETTE[0], 2.5f, true, null);
        line(acc, "validation", c.epochs, c.valAcc, PALETTE[1], 2.5f, true, null);
        line(acc, "test (tested checkpoint)", c.testX, c.testAcc, PALETTE[2], 2.5f, true, null);
        if (!acc.getSeriesMap().isEmpty()) written.add(save(acc, runDir.resolve(ACCURACY)));
        return written;
    }

    /**
     * Overlays runs: {@code compare_loss.png} (validation loss solid, training loss dashed, one colour per run) and
     * {@code compare_accuracy.png} (validation accuracy solid, training dashed), written into {@code outDir}.
     */
    public static List<Path> compare(List<Path> runDirs, Path outDir) {
        if (runDirs.isEmpty()) throw new IllegalArgumentException("plot: no run folders given");
        XYChart loss = chart("Loss by run", "epoch", "cross-entropy loss");
        XYChart acc = chart("Accuracy by run", "epoch", "accuracy (%)");
        List<String> names = labels(runDirs);
        for (int i = 0; i < runDirs.size(); i++) {
            Path run = runDirs.get(i);
            String name = names.get(i);
            Curves c = Curves.of(MetricsLog.read(run));
            Color color = PALETTE[i % PALETTE.length];
            line(loss, name + " validation", c.epochs, c.valLoss, color, 2.5f, true, null);
            line(loss, name + " train", c.epochs, c.trainLoss, color, 1.5f, true, SeriesLines.DASH_DASH);
            line(acc, name + " validation", c.epochs, c.valAcc, color, 2.5f, true, null);
            line(acc, name + " train", c.epochs, c.trainAcc, color, 1.5f, true, SeriesLines.DASH_DASH);
        }
        List<Path> written = new ArrayList<>();
        if (!loss.getSeriesMap().isEmpty()) written.add(save(loss, outDir.resolve("compare_loss.png")));
        if (!acc.getSeriesMap().isEmpty()) written.add(save(acc, outDir.resolve("compare_accuracy.png")));
        return written;
    }

    /** Legend names: each run's folder name, with its parent folder when two runs share a name. */
    static List<String> labels(List<Path> runs) {
        List<String> names = new ArrayList<>();
        for (Path run : runs) {
            Path abs = run.toAbsolutePath().normalize();
            names.add(abs.getFileName() == null ? abs.toString() : abs.getFileName().toString());
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            Path abs = runs.get(i).toAbsolutePath().normalize();
            String name = names.get(i);
            if (java.util.Collections.frequency(names, name) > 1 && abs.getParent() != null && abs.getParent().getFileName() != null)
                name = abs.getParent().getFileName() + "/" + name;
            while (out.contains(name)) name = name + "'";
            out.add(name);
        }
        return out;
    }

    /** A heat map of the confusion matrix: true classes top to bottom, predictions left to right, counts shown. */
    public static Path confusionMatrix(ConfusionMatrix m, List<String> classNames, Path png, String title) {
        int n = m.numClasses();
        List<String> x = new ArrayList<>(), y = new ArrayList<>();
        for (int i = 0; i < n; i++) x.add(shortLabel(classNames, i));
        for (int i = n - 1; i >= 0; i--) y.add(shortLabel(classNames, i));
        List<Number[]> cells = new ArrayList<>();
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++) cells.add(new Number[] {p, n - 1 - t, m.count(t, p)});
        int size = Math.max(620, Math.min(1400, 70 * n + 260));
        HeatMapChart chart = new HeatMapChartBuilder().width(size + 120).height(size).title(title)
                .xAxisTitle("predicted class").yAxisTitle("true class").build();
        var s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setShowValue(n <= 30);
        s.setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, n <= 12 ? 13 : 9));
        s.setRangeColors(new Color[] {new Color(0xf7fbff), new Color(0x9ecae1), new Color(0x4292c6)});
        s.setValueFontColor(new Color(0x202020));
        s.setHeatMapValueDecimalPattern("#");
        s.setXAxisLabelRotation(n > 6 ? 45 : 0);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setMin(0);
        chart.addSeries("count", x, y, cells);
        return save(chart, png);
    }

    private static String shortLabel(List<String> classNames, int i) {
        String name = classNames != null && i < classNames.size() ? classNames.get(i) : null;
        if (name == null) return String.valueOf(i);
        return name.length() > 14 ? name.substring(0, 13) + "." : name;
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        var s = c.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotGridLinesColor(new Color(0xdddddd));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(new Color(0xbbbbbb));
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setMarkerSize(7);
        s.setXAxisDecimalPattern("0.##");
        s.setToolTipsEnabled(false);
        return c;
    }

    /** Adds a series unless it has no finite point; NaN points (missing values) are dropped. */
    private static void line(XYChart chart, String name, List<Double> xs, List<Double> ys, Color color, float width,
                             boolean markers, BasicStroke style) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (int i = 0; i < xs.size(); i++) {
            if (Double.isFinite(xs.get(i)) && Double.isFinite(ys.get(i))) {
                x.add(xs.get(i));
                y.add(ys.get(i));
            }
        }
        if (x.isEmpty()) return;
        XYSeries s = chart.addSeries(name, x, y);
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setLineStyle(style != null ? new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
                style.getDashArray(), 0f) : new BasicStroke(width));
        s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    }

    private static Path save(Chart<?, ?> chart, Path png) {
        try {
            Files.createDirectories(png.toAbsolutePath().getParent());
            AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
            return png;
        } catch (IOException e) {
            throw new UncheckedIOException("plot: cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    /** Series extracted from metrics rows; accuracies in percent. */
    private record Curves(List<Double> epochs, List<Double> trainLoss, List<Double> valLoss, List<Double> trainAcc,
                          List<Double> valAcc, List<Double> stepX, List<Double> stepLoss, List<Double> testX,
                          List<Double> testAcc) {
        static Curves of(List<MetricsRow> rows) {
            Curves c = new Curves(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(),
                    new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            // Steps at the end of each epoch, to place step rows at fractional epochs.
            java.util.TreeMap<Integer, Long> epochEnd = new java.util.TreeMap<>();
            for (MetricsRow r : rows) if (r.kind().equals(MetricsRow.EPOCH)) epochEnd.put(r.epoch(), r.step());
            for (MetricsRow r : rows) {
                switch (r.kind()) {
                    case MetricsRow.EPOCH -> {
                        c.epochs.add((double) r.epoch());
                        c.trainLoss.add(r.trainLoss());
                        c.valLoss.add(r.valLoss());
                        c.trainAcc.add(100 * r.trainAcc());
                        c.valAcc.add(100 * r.valAcc());
                    }
                    case MetricsRow.STEP -> {
                        long start = epochEnd.getOrDefault(r.epoch() - 1, 0L);
                        Long end = epochEnd.get(r.epoch());
                        long perEpoch = end != null ? end - start
                                : epochEnd.isEmpty() ? Math.max(r.step(), 1) : epochEnd.firstEntry().getValue();
                        c.stepX.add(r.epoch() - 1 + (double) (r.step() - start) / Math.max(perEpoch, 1));
                        c.stepLoss.add(r.trainLoss());
                    }
                    case MetricsRow.TEST -> {
                        c.testX.add((double) r.epoch());
                        c.testAcc.add(100 * r.testAcc());
                    }
                    default -> { }
                }
            }
            return c;
        }
    }
}
