package io.github.transformers4j.cli;

import static io.github.transformers4j.cli.T4jTest.t4j;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.train.RunFolder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM (what Ctrl-C's SIGINT does too: the JVM's shutdown hooks run) in the middle of {@code t4j train}, in a real process. */
class InterruptTest {
    @Test
    void aTerminatedRunSaysHowToResumeReleasesItsLockAndResumes(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        T4jTest.writeIdx(data, "train", 1200, 1);
        T4jTest.writeIdx(data, "t10k", 50, 2);
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), T4j.class.getName(), "train", "--dataset", "fashion-mnist",
                "--data-dir", data.toString(), "--epochs", "2", "--batch-size", "32", "--out", run.toString(), "--workers", "0",
                "--threads", "1"));
        Path err = tmp.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.add(line);
                if (line.contains("epoch 1/2")) {
                    p.destroy(); // SIGTERM
                    break;
                }
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(out).anyMatch(l -> l.contains("epoch 1/2"));
        assertThat(Files.readString(err)).contains("interrupted: the last checkpoint is saved in " + run
                + "; resume with: t4j train --out " + run + " --resume");
        assertThat(run.resolve(RunFolder.LOCK)).doesNotExist();
        assertThat(run.resolve("checkpoints/last.safetensors")).isRegularFile();

        T4jTest.Result resumed = t4j("train", "--out", run.toString(), "--resume", "--data-dir", data.toString(), "--no-progress", "--no-test");
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resuming from", "epoch 2/2");
    }
}
