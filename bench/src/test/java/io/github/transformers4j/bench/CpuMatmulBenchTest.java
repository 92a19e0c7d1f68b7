package io.github.transformers4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CpuMatmulBenchTest {
    @Test
    void relativeErrorIsFrobeniusNormOfTheDifference() {
        float[] identity = {1, 0, 0, 1}, b = {1, 2, 3, 4};
        assertThat(CpuMatmulBench.relativeError(2, identity, b, b.clone())).isZero();
        float[] c = {1, 2, 3, 4.5f};
        assertThat(CpuMatmulBench.relativeError(2, identity, b, c)).isCloseTo(0.5 / Math.sqrt(30), within(1e-12));
    }

    @Test
    void smallRunReportsSpeedAccuracyAndNumpyOrWhyNot() {
        var bytes = new ByteArrayOutputStream();
        CpuMatmulBench.run(100, 1, 3, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).contains("cpu-matmul: 100 x 100 x 100 float32").containsPattern("sgemm +median +[0-9.]+ ms +[0-9.]+ GFLOP/s");
        Matcher err = Pattern.compile("relative error vs float64 \\(Frobenius\\): ([0-9.e+-]+)").matcher(out);
        assertThat(err.find()).as(out).isTrue();
        assertThat(Double.parseDouble(err.group(1))).isLessThan(1e-5);
        assertThat(out.contains("ratio transformers4j / numpy") || out.contains("numpy: not measured (")).as(out).isTrue();
    }

    @Test
    void rectangularShapesAreMeasuredAndChecked() {
        assertThat(CpuMatmulBench.parseShape("8320x256x768")).containsExactly(8320, 256, 768);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CpuMatmulBench.parseShape("8320x256"))
                .hasMessageContaining("--shape must be MxKxN");
        var r = CpuMatmulBench.measure(37, 19, 53, 1, 2);
        assertThat(r.flop()).isEqualTo(2.0 * 37 * 19 * 53);
        assertThat(r.relError()).isLessThan(1e-5);
        var t = CpuMatmulBench.measure(37, 19, 53, CpuMatmulBench.Layout.TRANSPOSED_A, 1, 2); // A stored 19 x 37, used transposed
        assertThat(t.layout()).isEqualTo(CpuMatmulBench.Layout.TRANSPOSED_A);
        assertThat(t.relError()).isLessThan(1e-5);
        var w = CpuMatmulBench.measure(37, 19, 53, CpuMatmulBench.Layout.TRANSPOSED_B, 1, 2); // B stored 53 x 19, used transposed
        assertThat(w.relError()).isLessThan(1e-5);
        assertThat(CpuMatmulBench.transpose(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)).containsExactly(1, 4, 2, 5, 3, 6);
        float[] a = {1, 2, 3}, b = {1, 0, 0, 1, 1, 1}; // (1 x 3) @ (3 x 2) = [4, 5]
        assertThat(CpuMatmulBench.relativeError(1, 3, 2, a, b, new float[] {4, 5})).isZero();
    }
}
