package io.github.transformers4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A small native buffer per thread for the arguments of hot calls (kernel parameters, GEMM scalars): the driver and
 * cuBLASLt copy them before returning, so one buffer is reused instead of an arena per call.
 */
final class Scratch {
    static final long BYTES = 8L * KernelArgs.MAX + KernelArgs.MAX_VALUE_BYTES;
    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(BYTES, 16));

    private Scratch() {}

    static MemorySegment get() { return BUFFER.get(); }
}
