package io.github.transformers4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.CpuBackend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpProfilerTest {
    @Test
    void countsEachOpOnceWithTheProductsFlopsAndPutsTheBackendBack() {
        Random4j rng = new Random4j(1);
        Tensor a = Tensor.randn(rng, 2, 4, 8), b = Tensor.randn(rng, 8, 3);
        Tensor expected = a.matmul(b);
        Map<String, OpProfiler.Stat> stats;
        Tensor got;
        try (OpProfiler p = OpProfiler.install(Device.CPU)) {
            assertThat(Backends.of(Device.CPU)).isNotSameAs(CpuBackend.INSTANCE);
            got = a.matmul(b);
            got.exp();
            stats = p.stats();
            ByteArrayOutputStream text = new ByteArrayOutputStream();
            p.print(new PrintStream(text, true), 1, 10.0);
            assertThat(text.toString()).contains("| matmul | 1 |", "| unary EXP | 1 |", "outside the ops", "| GB/s |");
        }
        assertThat(Backends.of(Device.CPU)).isSameAs(CpuBackend.INSTANCE);
        assertThat(got.toFloatArray()).containsExactly(expected.toFloatArray()); // the wrapped backend computes the same
        assertThat(stats.get("matmul").calls).isEqualTo(1);
        assertThat(stats.get("matmul").flops).isEqualTo(2.0 * 2 * 4 * 3 * 8); // out (2, 4, 3) over K = 8
        assertThat(stats.get("matmul").nanos).isPositive();
        assertThat(stats.get("unary EXP").calls).isEqualTo(1);
        assertThat(stats.get("unary EXP").bytes).as("EXP reads 24 floats and writes 24").isEqualTo(2L * 24 * Float.BYTES);
        assertThat(stats.get("matmul").bytes).as("at least a, b and the output").isGreaterThanOrEqualTo((2L * 4 * 8 + 8 * 3 + 2 * 4 * 3) * Float.BYTES);
        a.exp();
        assertThat(stats.get("unary EXP").calls).as("nothing is counted after close").isEqualTo(1);
    }
}
