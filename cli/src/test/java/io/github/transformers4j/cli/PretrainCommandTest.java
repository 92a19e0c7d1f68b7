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
