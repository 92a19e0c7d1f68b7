package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.tensor.cpu.CpuStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MemoryTest {
    @Test
    void tensorsAreReleasedWhenTheirScopeClosesUnlessKept() {
        Tensor inside, kept;
        try (var s = Memory.scope()) {
            inside = Tensor.ones(4);
            kept = Tensor.ones(4).mul(2.0).keep();
            assertThat(Memory.ownedByCurrentScope()).isGreaterThanOrEqualTo(2);
        }
        assertThat(inside.storage().isReleased()).isTrue();
        assertThat(kept.storage().isReleased()).isFalse();
        assertThat(kept.toFloatArray()).containsExactly(2, 2, 2, 2);
        assertThatThrownBy(inside::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("released");
    }

    @Test
    void unscopedAllocationsEscapeEveryScope() {
        Tensor state;
        try (var s = Memory.scope()) {
            state = Memory.unscoped(() -> Tensor.zeros(3));
        }
        assertThat(state.storage().isReleased()).isFalse();
    }

    /**
     * The backward pass frees what it is done with (each node's temporaries when the node returns, a gradient once it
     * was passed on): a 40-op chain on 4 MB tensors needs a few extra blocks during backward, not one per op, and the
     * gradient is the chain rule's.
     */
    @Test
    void backwardReleasesTemporariesAsItGoes() {
        int n = 1 << 20, depth = 40;
        Tensor x = Tensor.full(0.5, DType.F32, Device.CPU, n).requiresGrad(true);
        try (var s = Memory.scope()) {
            Tensor y = x;
            for (int i = 0; i < depth; i++) y = y.mul(1.01).tanh();
            Tensor loss = y.sum();
            long before = CpuStorage.allocatedBytes() - CpuStorage.pooledBytes();
            loss.backward();
            long liveAfter = CpuStorage.allocatedBytes() - CpuStorage.pooledBytes();
            // live memory after backward: the forward's 2 * depth saved tensors and x.grad, not 3 more per op
            assertThat(liveAfter - before).isLessThanOrEqualTo(4L * (4L * n));
            double g = 1, v = 0.5;
            for (int i = 0; i < depth; i++) {
                double t = Math.tanh(v * 1.01);
                g *= 1.01 * (1 - t * t);
                v = t;
            }
            assertThat(x.grad().toFloatArray()[0]).isCloseTo((float) g, org.assertj.core.data.Percentage.withPercentage(1e-3));
            assertThat(y.toFloatArray()[0]).isCloseTo((float) v, org.assertj.core.data.Percentage.withPercentage(1e-3));
        }
    }

    /** Resident memory not explained by the JVM's own committed heap and non-heap (code cache, metaspace) pools. */
    private static long nativeRssKb() throws Exception {
        var mx = java.lang.management.ManagementFactory.getMemoryMXBean();
        long jvmCommitted = mx.getHeapMemoryUsage().getCommitted() + mx.getNonHeapMemoryUsage().getCommitted();
        return rssKb() - jvmCommitted / 1024;
    }

    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    /** 10,000 forward/backward/update steps of a small MLP: off-heap bytes and resident memory stay flat. */
    @Test
    void tenThousandTrainingStepsKeepMemoryFlat() throws Exception {
        Random4j rng = new Random4j(0);
        Tensor w1 = Tensor.randn(rng, 16, 32).mul(0.1).detach().requiresGrad(true).keep();
        Tensor w2 = Tensor.randn(rng, 32, 4).mul(0.1).detach().requiresGrad(true).keep();
        Tensor x = Tensor.randn(rng, 8, 16).keep(), y = Tensor.randn(rng, 8, 4).keep();
        long allocatedAfterWarmup = 0, rssAfterWarmup = 0;
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 10_000; step++) {
            try (var s = Memory.scope()) {
                Tensor loss = x.matmul(w1).relu().matmul(w2).sub(y).square().mean();
                loss.backward();
                try (var g = Grad.disabled()) {
                    w1.add_(w1.grad(), -0.05);
                    w2.add_(w2.grad(), -0.05);
                }
                w1.clearGrad();
                w2.clearGrad();
                if (step == 0) firstLoss = loss.item();
                lastLoss = loss.item();
            }
            if (step == 1000) {
                System.gc();
                allocatedAfterWarmup = CpuStorage.allocatedBytes();
                rssAfterWarmup = nativeRssKb();
            }
        }
        System.gc();
        assertThat(lastLoss).isLessThan(firstLoss);
        // the pool serves every step after warm-up: no growth of allocated off-heap memory beyond a little slack
        assertThat(CpuStorage.allocatedBytes()).isLessThanOrEqualTo(allocatedAfterWarmup + (1 << 20));
        // The JVM may grow its heap and code cache as it likes (not a leak): what must stay flat is the rest of RSS.
        assertThat(nativeRssKb() - rssAfterWarmup).as("RSS growth beyond JVM-committed memory, KiB, over 9,000 steps")
                .isLessThan(64 * 1024);
    }
}
