package io.github.transformers4j.nn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class FixtureTest {
    @Test
    void readsTensorsConfigAndStateDict() {
        Fixture fx = Fixture.load("linear");
        assertThat(fx.config().get("in_features").asInt()).isEqualTo(8);
        assertThat(fx.dtype()).isEqualTo(DType.F32);
        assertThat(fx.params().keySet()).containsExactlyInAnyOrder("weight", "bias");
        assertThat(fx.tensor("param.weight").shape()).containsExactly(12, 8);
        assertThat(fx.input("input").shape()).containsExactly(2, 3, 8);
        assertThat(Fixture.load("layernorm_f64").tensor("input.input").dtype()).isEqualTo(DType.F64);
        assertThat(Fixture.load("sdpa_padding").tensor("input.key_padding_mask").dtype()).isEqualTo(DType.BOOL);
        Fixture adam = Fixture.load("optim/adam_default");
        assertThat(adam.withPrefix("grad.3.").keySet()).containsExactly("p0", "p1", "p2");
        assertThat(adam.config().get("lr").asDouble()).isEqualTo(0.01);
        assertThat(Fixture.load("gru_cell").params()).isNotEmpty();
        assertThat(Fixture.indexNames()).contains("sdpa_plain", "optim/adam_default", "statedict/mha_cross_padding");
    }

    @Test
    void assertCloseReportsTheWorstElement() {
        Tensor e = Tensor.of(new float[] {1, 2, 3}, 3);
        Fixture.assertClose("same", Tensor.of(new float[] {1, 2, 3.00001f}, 3), e, 1e-4, 1e-5);
        assertThatThrownBy(() -> Fixture.assertClose("t", Tensor.of(new float[] {1, 2.1f, 3}, 3), e, 1e-4, 1e-5))
                .isInstanceOf(AssertionError.class).hasMessageContaining("element 1");
        assertThatThrownBy(() -> Fixture.assertClose("t", Tensor.of(new float[] {1, 2}, 2), e, 1e-4, 1e-5))
                .isInstanceOf(AssertionError.class).hasMessageContaining("shape [2]");
    }
}
