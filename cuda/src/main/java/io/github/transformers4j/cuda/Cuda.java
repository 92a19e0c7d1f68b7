package io.github.transformers4j.cuda;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Entry point of the CUDA backend: whether it can run here, and the devices. Nothing here throws before
 * {@link #isAvailable()} says true; after that, {@link #device(int)} gives one {@link CudaDevice} per GPU, each with
 * its own context, streams, allocator, modules and cuBLASLt handle.
 */
public final class Cuda {
    private record State(CudaLibraries.Found libraries, String unavailableReason, int deviceCount,
                         AtomicReferenceArray<CudaDevice> devices) {}

    private static volatile State state;

    private Cuda() {}

    private static State state() {
        State s = state;
        if (s == null) {
            synchronized (Cuda.class) {
                if (state == null) state = probe();
                s = state;
            }
        }
        return s;
    }

    private static State probe() {
        CudaLibraries search;
        try {
            search = CudaLibraries.fromEnvironment();
        } catch (RuntimeException e) {
            return unavailable(null, "CUDA unavailable: library search failed: " + e);
        }
        var found = search.findAll();
        if (found.isEmpty()) return unavailable(null, search.missingMessage());
        // Driver's static initializer loads the library through libraries(), so publish the paths first.
        state = new State(found.get(), "CUDA unavailable: initialization in progress", 0, null);
        try {
            Driver.init();
            int count = Driver.deviceCount();
            if (count == 0) return unavailable(found.get(), "CUDA unavailable: the driver reports no CUDA devices");
            return new State(found.get(), null, count, new AtomicReferenceArray<>(count));
        } catch (Throwable t) {
            Throwable cause = t instanceof ExceptionInInitializerError e && e.getCause() != null ? e.getCause() : t;
            return unavailable(found.get(), "CUDA unavailable: " + cause.getMessage() + " (driver "
                    + found.get().driver() + ")");
        }
    }

    private static State unavailable(CudaLibraries.Found libs, String reason) {
        return new State(libs, reason, 0, null);
    }

    /** True when the driver, NVRTC and cuBLASLt were found, cuInit succeeded and there is at least one GPU. */
    public static boolean isAvailable() {
        try {
            return state().unavailableReason() == null;
        } catch (Throwable t) {
            return false;
        }
    }

    /** One line saying why CUDA cannot be used (what was searched, or the driver's error); null when available. */
    public static String unavailableReason() {
        try {
            return state().unavailableReason();
        } catch (Throwable t) {
            return "CUDA unavailable: " + t;
        }
    }

    /** The library paths that were found; throws when CUDA is unavailable for lack of them. */
    public static CudaLibraries.Found libraries() {
        CudaLibraries.Found libs = state().libraries();
        if (libs == null) throw new IllegalStateException(state().unavailableReason());
        return libs;
    }

    public static int deviceCount() {
        requireAvailable();
        return state().deviceCount();
    }

    /** The device with ordinal {@code index}, created (context retained) on first use. */
    public static CudaDevice device(int index) {
        requireAvailable();
        State s = state();
        if (index < 0 || index >= s.deviceCount()) {
            throw new IllegalArgumentException("cuda:" + index + " does not exist: " + s.deviceCount()
                    + " CUDA device(s)");
        }
        CudaDevice d = s.devices().get(index);
        if (d == null) {
            synchronized (Cuda.class) {
                d = s.devices().get(index);
                if (d == null) {
                    d = new CudaDevice(index);
                    s.devices().set(index, d);
                }
            }
        }
        return d;
    }

    static void requireAvailable() {
        String reason = unavailableReason();
        if (reason != null) throw new IllegalStateException(reason);
    }
}
