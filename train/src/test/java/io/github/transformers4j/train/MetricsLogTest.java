package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
    @Test
    void csvHasOnlyReproducibleColumnsAndJsonlAddsTimings(@TempDir Path dir) throws Exception {
        try (MetricsLog log = MetricsLog.create(dir)) {
            log.log(MetricsRow.step(1, 10, 0.001, 1.25), Map.of("elapsed_s", 3.5));
            log.log(MetricsRow.epoch(1, 20, 0.0005, 1.0, 0.5, 0.75, 0.625), Map.of("images_per_s", 123.4));
        }
        assertThat(Files.readAllLines(dir.resolve("metrics.csv"))).containsExactly(
                "kind,epoch,step,lr,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc",
                "step,1,10,0.001,1.25,,,,,",
                "epoch,1,20,0.0005,1,0.5,0.75,0.625,,");
        List<String> json = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertThat(json.get(0)).isEqualTo("{\"kind\":\"step\",\"epoch\":1,\"step\":10,\"lr\":0.001,\"train_loss\":1.25,\"elapsed_s\":3.5}");
        assertThat(json.get(1)).contains("\"images_per_s\":123.4");
        assertThat(MetricsLog.read(dir)).containsExactly(MetricsRow.step(1, 10, 0.001, 1.25),
                MetricsRow.epoch(1, 20, 0.0005, 1.0, 0.5, 0.75, 0.625));
    }

    @Test
    void numbersKeepNineSignificantDigits() {
        assertThat(MetricsLog.format(0.123456789123)).isEqualTo("0.123456789");
        assertThat(MetricsLog.format(2.0)).isEqualTo("2");
        assertThat(MetricsLog.format(1.5e-7)).isEqualTo("1.5e-07");
        assertThat(MetricsLog.format(Double.NaN)).isEmpty();
    }

    @Test
    void resumeKeepsTheRowsUpToTheCheckpointsStepAndDropsTheRestIncludingAHalfWrittenLine(@TempDir Path dir) throws Exception {
        try (MetricsLog log = MetricsLog.create(dir)) {
            log.log(MetricsRow.step(1, 5, 0.1, 2.0), Map.of());
            log.log(MetricsRow.epoch(1, 10, 0.1, 1.9, 0.3, 1.8, 0.35), Map.of());
            log.log(MetricsRow.step(2, 15, 0.1, 1.5), Map.of());
        }
        Files.writeString(dir.resolve("metrics.csv"), "step,2,2", StandardOpenOption.APPEND); // killed mid-line
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"kind\":\"st", StandardOpenOption.APPEND);
        try (MetricsLog log = MetricsLog.resume(dir, 10)) { // the checkpoint of step 10 (the end of epoch 1)
            log.log(MetricsRow.step(2, 15, 0.1, 1.4), Map.of());
        }
        assertThat(MetricsLog.read(dir)).containsExactly(MetricsRow.step(1, 5, 0.1, 2.0),
                MetricsRow.epoch(1, 10, 0.1, 1.9, 0.3, 1.8, 0.35), MetricsRow.step(2, 15, 0.1, 1.4));
        assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).hasSize(3).allMatch(l -> l.endsWith("}"));
    }

    @Test
    void readingSomethingElseSaysWhatWasExpected(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("metrics.csv"), "a,b\n1,2\n");
        assertThatThrownBy(() -> MetricsLog.read(dir)).hasMessageContaining("not a transformers4j metrics.csv");
    }
}
