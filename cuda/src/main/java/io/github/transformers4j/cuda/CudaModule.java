package io.github.transformers4j.cuda;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A loaded kernel module (one .cu file) on one device. */
public final class CudaModule {
    private final CudaDevice device;
    private final String name;
    private final long handle;
    private final Map<String, CudaFunction> functions = new ConcurrentHashMap<>();

    CudaModule(CudaDevice device, String name, long handle) {
        this.device = device;
        this.name = name;
        this.handle = handle;
    }

    public String name() { return name; }
    public CudaDevice device() { return device; }

    /** The {@code extern "C"} kernel {@code kernelName}. */
    public CudaFunction function(String kernelName) {
        return functions.computeIfAbsent(kernelName, k -> {
            device.makeCurrent();
            return new CudaFunction(device, name + ":" + k, Driver.moduleGetFunction(handle, k));
        });
    }
}
