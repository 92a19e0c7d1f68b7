package io.github.transformers4j.tensor;

import io.github.transformers4j.tensor.cpu.CpuBackend;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Finds the backend for a device: the CPU always; others through {@link BackendProvider} services (module cuda). */
public final class Backends {
    private static final Map<Device, Backend> CACHE = new ConcurrentHashMap<>();
    /** A diagnostic wrapper of the CPU backend ({@link #instrument}), or null: the CPU's lookup stays one field read. */
    private static volatile Backend cpuOverride;

    private Backends() {}

    public static Backend of(Device device) {
        if (device.type() == Device.Type.CPU) {
            Backend o = cpuOverride;
            return o != null ? o : CpuBackend.INSTANCE;
        }
        return CACHE.computeIfAbsent(device, Backends::load);
    }

    /**
     * Replaces the backend of {@code device} by {@code wrap} applied to the current one (for diagnostics, e.g. a
     * profiler that times every op) and returns the one it replaced; pass that to {@link #restore} to undo.
     * Tensors created before keep working: ops look their backend up by device on every call.
     */
    public static synchronized Backend instrument(Device device, java.util.function.UnaryOperator<Backend> wrap) {
        Backend current = of(device);
        Backend wrapped = wrap.apply(current);
        if (device.type() == Device.Type.CPU) cpuOverride = wrapped;
        else CACHE.put(device, wrapped);
        return current;
    }

    /** Puts back a backend returned by {@link #instrument}. */
    public static synchronized void restore(Device device, Backend original) {
        if (device.type() == Device.Type.CPU) cpuOverride = original == CpuBackend.INSTANCE ? null : original;
        else CACHE.put(device, original);
    }

    private static Backend load(Device device) {
        StringBuilder reasons = new StringBuilder();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
            if (p.type() != device.type()) continue;
            String why = p.unavailableReason();
            if (why == null) return p.create(device.index());
            reasons.append(why);
        }
        throw new IllegalStateException("no backend for device " + device + ": "
                + (reasons.isEmpty() ? "the transformers4j-cuda module is not on the class path" : reasons));
    }

    /** A backend that can be plugged in at run time (registered in META-INF/services). */
    public interface BackendProvider {
        Device.Type type();

        /** null when usable, else a one-line reason (what was searched). */
        String unavailableReason();

        Backend create(int index);
    }
}
