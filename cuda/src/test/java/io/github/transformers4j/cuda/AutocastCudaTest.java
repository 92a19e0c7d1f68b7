package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.NnOps;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * bf16 autocast on the GPU (cuBLASLt bf16 operands, fp32 accumulation) against the same autocast on the CPU (rounded
 * operands multiplied in fp32) and against plain fp32: a linear layer forward and all gradients.
 */
@Tag("cuda")
class AutocastCudaTest {
    static final Device GPU = Device.cuda(0);

    private static double normRel(Tensor a, Tensor b) {
        return GpuTests.normRel(a, b);
    }

    @Test
    void bf16LinearOnTheGpuMatchesTheCpuAutocastAndStaysNearFp32() {
        Random4j rng = new Random4j(11);
        Tensor x = Tensor.randn(rng, 4, 65, 256), w = Tensor.randn(rng, 768, 256).mul(0.05), bias = Tensor.randn(rng, 768);
        Tensor g = Tensor.randn(rng, 4, 65, 768);
        Tensor[] cpu = run(x, w, bias, g, Device.CPU, DType.BF16), gpu = run(x, w, bias, g, GPU, DType.BF16);
        Tensor[] exact = run(x, w, bias, g, Device.CPU, null);
        String[] names = {"y", "dx", "dw", "db"};
        assertThat(gpu[0].dtype()).isEqualTo(DType.BF16); // products return bf16 under autocast, as torch.autocast
        for (int i = 0; i < 4; i++) {
            if (i > 0) assertThat(gpu[i].dtype()).as(names[i]).isEqualTo(DType.F32);
            // same rounded operands, fp32 accumulation on both sides: only summation order differs
            assertThat(normRel(gpu[i].to(Device.CPU), cpu[i])).as("gpu vs cpu autocast, %s", names[i]).isLessThan(1e-2);
            assertThat(normRel(gpu[i].to(Device.CPU), exact[i])).as("gpu autocast vs fp32, %s", names[i]).isLessThan(1e-2);
        }
    }

    @Test
    void linearReluOnTheGpuTakesTheReluEpilogueAndMatchesTheCpuAutocast() {
        Random4j rng = new Random4j(14);
        Tensor x = Tensor.randn(rng, 4, 65, 256), w = Tensor.randn(rng, 1024, 256).mul(0.05), bias = Tensor.randn(rng, 1024);
        Tensor g = Tensor.randn(rng, 4, 65, 1024).to(DType.BF16);
        for (boolean withBias : new boolean[] {true, false}) {
            Tensor b = withBias ? bias : null;
            Tensor[] cpu = runRelu(x, w, b, g, Device.CPU), gpu = runRelu(x, w, b, g, GPU);
            float[] yc = cpu[0].toFloatArray(), yg = gpu[0].to(Device.CPU).toFloatArray();
            int zc = 0, zg = 0;
            for (int i = 0; i < yc.length; i++) {
                assertThat(yg[i]).isGreaterThanOrEqualTo(0f);
                if (yc[i] == 0) zc++;
                if (yg[i] == 0) zg++;
            }
            assertThat(zc).as("bias %s: clipped outputs", withBias).isGreaterThan(yc.length / 4);
            // only summation order differs: an output near 0 may fall on either side
            assertThat(Math.abs(zg - zc)).as("bias %s: clipped on the GPU %d, on the CPU %d", withBias, zg, zc).isLessThan(yc.length / 200);
            String[] names = {"y", "dx", "dw", "db"};
            for (int i = 0; i < (withBias ? 4 : 3); i++) {
                assertThat(normRel(gpu[i].to(Device.CPU), cpu[i])).as("bias %s, %s", withBias, names[i]).isLessThan(1e-2);
            }
        }
    }

    private static Tensor[] runRelu(Tensor x0, Tensor w0, Tensor b0, Tensor g, Device d) {
        Tensor x = x0.detach().to(d).requiresGrad(true), w = w0.detach().to(d).requiresGrad(true),
                b = b0 == null ? null : b0.detach().to(d).requiresGrad(true);
        Tensor y;
        try (var ac = Autocast.enable(DType.BF16)) {
            y = NnOps.linearRelu(x, w, b);
        }
        assertThat(y.dtype()).isEqualTo(DType.BF16);
        y.backward(g.to(d));
        return new Tensor[] {y.to(Device.CPU), x.grad().to(Device.CPU), w.grad().to(Device.CPU), b == null ? null : b.grad().to(Device.CPU)};
    }

    @Test
    void bf16DropoutOnTheGpuKeepsWhatTheCpuKeepsBitForBit() {
        Tensor x = Tensor.randn(new Random4j(3), 4099).to(DType.BF16);
        for (int start : new int[] {0, 1}) { // 8-byte aligned (vector loads) and not
            Tensor xs = x.narrow(0, start, 4000);
            Tensor cpu = NnOps.dropout(xs, 0.1, true, new Random4j(21));
            Tensor gpu = NnOps.dropout(xs.to(GPU), 0.1, true, new Random4j(21));
            assertThat(gpu.dtype()).isEqualTo(DType.BF16);
            assertThat(gpu.to(Device.CPU).toFloatArray()).as("offset %d", start).containsExactly(cpu.toFloatArray());
        }
    }

    @Test
    void fp32PlusBf16OnTheGpuReadsTheBf16OperandAsItIsAndEqualsTheCpu() {
        Tensor a = Tensor.randn(new Random4j(4), 3, 65, 256), b = Tensor.randn(new Random4j(5), 3, 65, 256).to(DType.BF16);
        Tensor row = Tensor.randn(new Random4j(6), 256).to(DType.BF16);
        for (Tensor[] pair : new Tensor[][] {{a, b}, {b, a}, {a, row}}) {
            Tensor cpu = pair[0].add(pair[1]), gpu = pair[0].to(GPU).add(pair[1].to(GPU));
            assertThat(gpu.dtype()).isEqualTo(DType.F32);
            assertThat(gpu.to(Device.CPU).toFloatArray()).containsExactly(cpu.toFloatArray());
            assertThat(pair[0].to(GPU).mul(pair[1].to(GPU)).to(Device.CPU).toFloatArray()).containsExactly(pair[0].mul(pair[1]).toFloatArray());
        }
    }

    @Test
    void geluBackwardOfBf16OnTheGpuMatchesTheCpuWithinOneBf16Step() {
        Tensor x = Tensor.randn(new Random4j(12), 4, 65, 1024).mul(2).to(DType.BF16), g = Tensor.randn(new Random4j(13), 4, 65, 1024).to(DType.BF16);
        Tensor cpu = x.detach().requiresGrad(true), gpu = x.to(GPU).requiresGrad(true);
        cpu.gelu().backward(g);
        gpu.gelu().backward(g.to(GPU));
        assertThat(gpu.grad().dtype()).isEqualTo(DType.BF16);
        float[] a = cpu.grad().toFloatArray(), b = gpu.grad().to(Device.CPU).toFloatArray(), gs = g.toFloatArray(), xs = x.toFloatArray();
        int same = 0;
        for (int i = 0; i < a.length; i++) {
            // one bf16 step; in the far negative tail (gelu'(x) ~ 1e-17 for x ~ -9) gelu' = cdf + x pdf cancels two terms
            // that float32 cannot resolve, and erff (GPU) and erf in double (CPU) round it 1% apart: there a floor of
            // 1e-12 of the incoming gradient, far below anything a float32 update can see
            double tol = Math.abs(a[i]) / 128 + 1e-12 * Math.abs(gs[i]) + 1e-30;
            assertThat((double) b[i]).as("element %d, x %s", i, xs[i]).isCloseTo(a[i], org.assertj.core.data.Offset.offset(tol));
            if (a[i] == b[i]) same++;
        }
        assertThat(same).as("erff (GPU) vs erf in double (CPU): equal after rounding almost everywhere").isGreaterThan(a.length * 99 / 100);
    }

    private static Tensor[] run(Tensor x0, Tensor w0, Tensor b0, Tensor g, Device d, DType autocast) {
        // detached: the first CPU run marks x0, w0, b0 as requiring grad, and .to(GPU) of such a tensor is not a leaf
        Tensor x = x0.detach().to(d).requiresGrad(true), w = w0.detach().to(d).requiresGrad(true),
                b = b0.detach().to(d).requiresGrad(true);
        Tensor y;
        try (var ac = Autocast.enable(autocast)) {
            y = NnOps.linear(x, w, b);
        }
        y.backward(g.to(d));
        return new Tensor[] {y.to(Device.CPU), x.grad().to(Device.CPU), w.grad().to(Device.CPU), b.grad().to(Device.CPU)};
    }
}
