package io.github.transformers4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run folders are never overwritten by accident, and one process at a time writes into one. */
class RunFolderTest {
    @Test
    void aNewFolderIsCreatedAndLockedUntilClosed(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("runs/a");
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.NEW)) {
            assertThat(run.resolve(RunFolder.LOCK)).isRegularFile();
            assertThat(f.notes()).isEmpty();
            Files.writeString(run.resolve("config.json"), "{}");
        }
        assertThat(run.resolve("config.json")).isRegularFile();
        assertThat(run.resolve(RunFolder.LOCK)).doesNotExist();
    }

    @Test
    void aFolderTheClaimMadeIsRemovedWhenNothingWasWritten(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("r");
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.NEW)) {
            assertThat(run).isDirectory();
        }
        assertThat(run).doesNotExist(); // e.g. the data set was not found: nothing is left behind
        Files.createDirectories(run);
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.NEW)) {
            assertThat(f.dir()).isEqualTo(run);
        }
        assertThat(run).isDirectory(); // the user's own (empty) folder stays
    }

    @Test
    void aFolderHoldingARunIsRefusedWithoutResumeOrOverwriteAndLeftAsItWas(@TempDir Path run) throws Exception {
        Files.writeString(run.resolve("metrics.csv"), "kind,epoch\n");
        Files.createDirectories(run.resolve("checkpoints"));
        assertThatThrownBy(() -> RunFolder.claim(run, RunFolder.Mode.NEW)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(run.toString()).hasMessageContaining("checkpoints/, metrics.csv")
                .hasMessageContaining("--resume").hasMessageContaining("--overwrite");
        assertThat(run.resolve("metrics.csv")).hasContent("kind,epoch");
        assertThat(run.resolve(RunFolder.LOCK)).doesNotExist();
        // a command without --resume (pretrain) does not suggest it
        assertThatThrownBy(() -> RunFolder.claim(run, RunFolder.Mode.NEW, false)).hasMessageNotContaining("--resume")
                .hasMessageContaining("--overwrite");
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.RESUME)) {
            assertThat(run.resolve("metrics.csv")).hasContent("kind,epoch");
        }
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.OVERWRITE)) {
            assertThat(run.resolve("metrics.csv")).doesNotExist();
            assertThat(run.resolve("checkpoints")).doesNotExist();
            assertThat(f.notes()).anySatisfy(n -> assertThat(n).contains("--overwrite: deleted"));
        }
    }

    @Test
    void aSecondProcessCannotClaimAFolderInUse(@TempDir Path run) {
        try (RunFolder first = RunFolder.claim(run, RunFolder.Mode.NEW)) {
            // the lock names this (live) process
            assertThatThrownBy(() -> RunFolder.claim(run, RunFolder.Mode.RESUME)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("in use by process " + ProcessHandle.current().pid());
            assertThatThrownBy(() -> RunFolder.claim(run, RunFolder.Mode.OVERWRITE)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("in use");
        }
    }

    @Test
    void aLockLeftByAProcessThatIsGoneIsTakenOver(@TempDir Path run) throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        Files.writeString(run.resolve(RunFolder.LOCK), p.pid() + "\n");
        Files.writeString(run.resolve("config.json"), "{}");
        Files.writeString(run.resolve(".last.safetensors.123.tmp"), "half a checkpoint");
        try (RunFolder f = RunFolder.claim(run, RunFolder.Mode.RESUME)) {
            assertThat(f.notes()).anySatisfy(n -> assertThat(n).contains("process " + p.pid() + ", which is no longer running"));
            assertThat(f.notes()).anySatisfy(n -> assertThat(n).contains("removed 1 temporary file"));
            assertThat(run.resolve(".last.safetensors.123.tmp")).doesNotExist();
            assertThat(run.resolve("config.json")).exists();
            assertThat(Files.readString(run.resolve(RunFolder.LOCK)).trim()).isEqualTo(String.valueOf(ProcessHandle.current().pid()));
        }
    }

    @Test
    void aFileIsNotARunFolder(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("x"), "");
        assertThatThrownBy(() -> RunFolder.claim(file, RunFolder.Mode.NEW)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is a file");
    }
}
