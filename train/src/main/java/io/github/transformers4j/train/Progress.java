package io.github.transformers4j.train;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar for a pass over batches (it/s, ETA, running loss) on stderr, or nothing when switched off or when the
 * output is not a terminal: redirected to a file, a bar's carriage-return updates would fill it (the epoch's summary
 * line is printed either way).
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;
    private final StepClock clock;

    private Progress(ProgressBar bar, StepClock clock) {
        this.bar = bar;
        this.clock = clock;
    }

    public static Progress start(boolean enabled, String task, long steps, PrintStream stream) {
        if (!enabled || !onTerminal() || steps <= 0) return new Progress(null, null);
        StepClock clock = new StepClock();
        ProgressBar bar = new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" it", 1)
                .showSpeed(new java.text.DecimalFormat("0.00"))
                .setEtaFunction(state -> clock.eta(state.getMax() - state.getCurrent()))
                .setUpdateIntervalMillis(500)
                .setMaxRenderedLength(110)
                .setConsumer(new ConsoleProgressBarConsumer(stream, 110))
                .build();
        return new Progress(bar, clock);
    }

    /** Whether the JVM talks to a terminal (System.console() exists and is one: not when output is redirected). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    public void step(double runningLoss) {
        if (bar == null) return;
        bar.setExtraMessage(String.format(Locale.ROOT, "  loss %.4f", runningLoss));
        step();
    }

    /** One step done (for passes without a loss to show). */
    public void step() {
        if (bar == null) return;
        clock.tick();
        bar.step();
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }

    /**
     * Time left from a moving average of recent step times. The first two steps (the JIT compiling, a CUDA graph
     * being captured) are left out, so the first estimate is not ten times too long, as an average since the start is.
     */
    static final class StepClock {
        private long last = System.nanoTime(), steps;
        private double secondsPerStep = Double.NaN;

        void tick() {
            long now = System.nanoTime();
            double dt = (now - last) / 1e9;
            last = now;
            if (++steps > 2) secondsPerStep = Double.isNaN(secondsPerStep) ? dt : 0.9 * secondsPerStep + 0.1 * dt;
        }

        Optional<Duration> eta(long remaining) {
            if (Double.isNaN(secondsPerStep)) return Optional.empty();
            return Optional.of(Duration.ofMillis((long) (remaining * secondsPerStep * 1000)));
        }
    }
}
