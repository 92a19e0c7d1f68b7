package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
    @Test
    void roundTripKeepsTensorsAndMetadata(@TempDir Path dir) {
        Path p = dir.resolve("ck/last.safetensors");
        new Checkpoint(Map.of("layer.weight", Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)),
                Map.of("state.0.exp_avg", Tensor.of(new float[] {5, 6}, 2)),
                Map.of("epoch", "3", "global_step", "42", "config", "{\"a\":1}")).save(p);
        Checkpoint c = Checkpoint.load(p);
        assertThat(c.epoch()).isEqualTo(3);
        assertThat(c.globalStep()).isEqualTo(42);
        assertThat(c.config()).isEqualTo("{\"a\":1}");
        assertThat(c.model().get("layer.weight").toFloatArray()).containsExactly(1, 2, 3, 4);
        assertThat(c.model().get("layer.weight").shape()).containsExactly(2, 2);
        assertThat(c.optimizer().get("state.0.exp_avg").toFloatArray()).containsExactly(5, 6);
        assertThat(c.meta("format")).isEqualTo(Checkpoint.FORMAT);
        assertThatThrownBy(() -> c.require("nope")).hasMessageContaining("metadata key 'nope' is missing");
    }

    @Test
    void aPlainSafetensorsFileIsNotACheckpoint(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("weights.safetensors");
        SafeTensors.save(p, Map.of("w", Tensor.zeros(2)), Map.of());
        assertThatThrownBy(() -> Checkpoint.load(p)).hasMessageContaining("not a transformers4j checkpoint");
        assertThatThrownBy(() -> Checkpoint.load(dir.resolve("missing.safetensors"))).hasMessageContaining("no such file");
    }

    @Test
    void aFailureInTheMiddleOfAnAtomicWriteLeavesTheOldFileAndNoTemporary(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("config.json");
        AtomicFiles.writeString(target, "old and complete");
        assertThatThrownBy(() -> AtomicFiles.write(target, out -> {
            out.write("new but half".getBytes());
            throw new IOException("disk full (simulated)");
        })).hasMessageContaining("disk full");
        assertThat(Files.readString(target)).isEqualTo("old and complete");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(target);
        }
    }

    /**
     * SIGKILL a process while it writes a 32 MB checkpoint (as soon as its temporary file appears): the checkpoint on
     * disk is always a complete one. Tries until a kill lands inside a write (its temporary file is left over), at
     * most 6 times.
     */
    @Test
    void killMinusNineDuringAWriteNeverLeavesAHalfWrittenCheckpoint(@TempDir Path root) throws Exception {
        boolean killedMidWrite = false;
        for (int attempt = 0; attempt < 6 && !killedMidWrite; attempt++) {
            Path dir = Files.createDirectory(root.resolve("attempt" + attempt));
            killedMidWrite = killDuringWrite(dir);
        }
        assertThat(killedMidWrite).as("some kill landed inside a write").isTrue();
    }

    /** Returns whether the kill left a temporary file, i.e. interrupted a write. */
    private static boolean killDuringWrite(Path dir) throws Exception {
        Path target = dir.resolve("last.safetensors");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CheckpointWriterMain.class.getName(), target.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            String line;
            while ((line = r.readLine()) != null && !line.equals("begin 3")) {
                if (!line.startsWith("begin") && !line.startsWith("done") && !line.startsWith("WARNING")) throw new AssertionError(line);
            }
            assertThat(line).as("child output").isEqualTo("begin 3");
            // wait until write 3 has created its temporary file, then kill at once
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                try (Stream<Path> files = Files.list(dir)) {
                    if (files.anyMatch(p -> p.getFileName().toString().endsWith(".tmp"))) break;
                }
            }
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        Checkpoint c = Checkpoint.load(target);
        int epoch = c.epoch();
        assertThat(epoch).isBetween(2, 3);
        for (Tensor t : c.model().values()) {
            assertThat(t.numel()).isEqualTo(2_000_000);
            assertThat(t.min().item()).isEqualTo(epoch);
            assertThat(t.max().item()).isEqualTo(epoch);
        }
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> others = files.filter(p -> !p.equals(target)).toList();
            // a killed write leaves at most its hidden temporary file; it is never read as the checkpoint
            assertThat(others).allMatch(p -> p.getFileName().toString().startsWith(".last.safetensors."));
            return !others.isEmpty();
        }
    }
}
