package io.github.transformers4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PretrainCommandTest {
    @Test
    void pretrainHelpListsTheMaeOptions() {
        T4jTest.Result r = T4jTest.t4j("pretrain", "--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: t4j pretrain").contains("--mask-ratio", "--norm-pix-loss", "--samples", "--model",
                "--init-from RUN/checkpoints/last.safetensors");
        assertThat(T4jTest.t4j("train", "--help").out()).contains("--init-from", "--freeze-encoder", "vit-bert12-p4", "mae-tiny");
        // the loop's step options are declared once (StepOptions) and offered by both commands, with --resume
        for (String cmd : new String[] {"train", "pretrain"})
            assertThat(T4jTest.t4j(cmd, "--help").out()).contains("--gradient-accumulation", "--eval-steps", "--save-steps",
                    "--save-total-limit", "--resume", "--time-limit", "--patience");
    }

    @Test
    void badStepOptionsNameTheOptionAndWriteNothing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        T4jTest.Result r = T4jTest.t4j("train", "--gradient-accumulation", "0", "--epochs", "1", "--limit-train", "64", "--no-test",
                "--out", dir.resolve("run").toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err()).contains("--gradient-accumulation must be >= 1, got 0");
        T4jTest.Result p = T4jTest.t4j("pretrain", "--save-total-limit", "-3", "--epochs", "1", "--limit-train", "64",
                "--out", dir.resolve("pre").toString());
        assertThat(p.code()).isNotZero();
        assertThat(p.err()).contains("--save-total-limit must be >= -1, got -3");
        assertThat(dir.resolve("run")).doesNotExist();
        assertThat(dir.resolve("pre")).doesNotExist();
        T4jTest.Result s = T4jTest.t4j("pretrain", "--resume");
        assertThat(s.err()).contains("--resume needs --out DIR");
    }

    @Test
    void unknownPretrainingModelAndMisusedFreezeAreErrors() {
        T4jTest.Result r = T4jTest.t4j("pretrain", "--model", "vit-tiny-p4");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("unknown pre-training model 'vit-tiny-p4'").contains("mae-tiny");
        T4jTest.Result m = T4jTest.t4j("pretrain", "--mask-ratio", "1.5");
        assertThat(m.code()).isEqualTo(1);
        assertThat(m.err()).contains("--mask-ratio must be in (0, 1)");
    }
}
