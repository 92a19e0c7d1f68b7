package io.github.transformers4j.train;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A per-epoch progress bar (it/s, ETA, running loss) on stderr, or nothing when switched off or when the output is not a
 * terminal: redirected to a file, a bar's carriage-return updates would fill it (the epoch's summary line is printed
 * either way).
 */
final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    static Progress start(boolean enabled, String task, long steps, PrintStream stream) {
        if (!enabled || !onTerminal()) return new Progress(null);
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" it", 1)
                .showSpeed(new java.text.DecimalFormat("0.00"))
                .setUpdateIntervalMillis(500)
                .setMaxRenderedLength(110)
                .setConsumer(new ConsoleProgressBarConsumer(stream, 110))
                .build();
        return new Progress(bar);
    }

    /** Whether the JVM talks to a terminal (System.console() exists and is one: not when output is redirected). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    void step(double runningLoss) {
        if (bar == null) return;
        bar.setExtraMessage(String.format(Locale.ROOT, "  loss %.4f", runningLoss));
        bar.step();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
