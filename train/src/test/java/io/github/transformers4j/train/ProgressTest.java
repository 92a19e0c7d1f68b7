package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class ProgressTest {
    /** Tests run with their output redirected, as a job writing to a log file: no bar, no carriage returns. */
    @Test
    void noBarWhenTheOutputIsNotATerminal() {
        assertThat(Progress.onTerminal()).isFalse();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (Progress p = Progress.start(true, "epoch 1/1", 100, new PrintStream(buf, true))) {
            for (int i = 0; i < 100; i++) p.step(0.5);
        }
        assertThat(buf.toString()).doesNotContain("\r").isEmpty();
    }

    /** The ETA leaves out the first steps (JIT, graph capture), which an average since the start would count. */
    @Test
    void etaComesFromRecentStepsNotTheSlowFirstOnes() throws InterruptedException {
        Progress.StepClock clock = new Progress.StepClock();
        Thread.sleep(500); // a slow first step
        clock.tick();
        assertThat(clock.eta(100)).isEmpty();
        clock.tick();
        assertThat(clock.eta(100)).isEmpty();
        for (int i = 0; i < 20; i++) {
            Thread.sleep(2);
            clock.tick();
        }
        // about 100 x 2 ms, not 100 x (500 + 22 * 2) / 22 ms = 2.5 s
        assertThat(clock.eta(100).orElseThrow().toMillis()).isBetween(150L, 1500L);
    }
}
