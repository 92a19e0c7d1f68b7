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
                    "--save-total-limit", "--resume", "--time-limit", "--patience", "--precision", "--no-cuda-graphs");
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
        T4jTest.Result bf16 = T4jTest.t4j("pretrain", "--precision", "bf16", "--epochs", "1", "--out", dir.resolve("bf16").toString());
        assertThat(bf16.code()).isNotZero();
        assertThat(bf16.err()).contains("--precision bf16 is for --device cuda");
        assertThat(dir.resolve("bf16")).doesNotExist();
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

    /** Pre-training resumes through the training loop; options that would change the run are refused on --resume. */
    @Test
    void pretrainResumesAndRefusesChangedOptions(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path data = tmp.resolve("data"), run = tmp.resolve("run");
        T4jTest.writeIdx(data, "train", 64, 1);
        T4jTest.writeIdx(data, "t10k", 8, 2);
        String[] common = {"--data-dir", data.toString(), "--out", run.toString(), "--batch-size", "16", "--no-progress", "--samples", "2"};
        T4jTest.Result first = T4jTest.t4j(concat(new String[] {"pretrain", "--epochs", "1", "--mask-ratio", "0.5"}, common));
        assertThat(first.code()).as(first.err()).isZero();
        T4jTest.Result changed = T4jTest.t4j(concat(new String[] {"pretrain", "--resume", "--lr", "0.5"}, common));
        assertThat(changed.code()).isNotZero();
        assertThat(changed.err()).contains("--resume continues the run", "--lr 0.5 (the run has 0.0015)");
        T4jTest.Result ratio = T4jTest.t4j(concat(new String[] {"pretrain", "--resume", "--mask-ratio", "0.75"}, common));
        assertThat(ratio.err()).contains("--mask-ratio 0.75 (the run has 0.5)");
        // without --mask-ratio the run keeps its own 0.5, not the option's default 0.75
        T4jTest.Result resumed = T4jTest.t4j(concat(new String[] {"pretrain", "--resume", "--epochs", "2"}, common));
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resuming from", "epoch 1 done", "epoch 2/2", "mask ratio 0.50");
        assertThat(io.github.transformers4j.train.MetricsLog.read(run).stream().filter(r -> r.kind().equals("epoch"))
                .map(io.github.transformers4j.train.MetricsRow::epoch)).containsExactly(1, 2);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
