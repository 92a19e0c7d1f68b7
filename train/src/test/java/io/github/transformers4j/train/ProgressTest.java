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
}
