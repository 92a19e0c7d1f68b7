package io.github.transformers4j.cuda;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One GPU: its primary context, a default stream, a caching allocator, compiled kernel modules and (lazily) a cuBLASLt
 * handle. Every method makes this device's context current on the calling thread first, so code may switch between
 * devices freely. Obtain through {@link Cuda#device(int)}.
 */
public final class CudaDevice {
    private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

    private final int index;
    private final int handle;
    private final long context;
    private final String name;
    private final int computeMajor;
    private final int computeMinor;
    private final int multiprocessors;
    private final long totalMemory;
    private final CudaStream defaultStream;
    private final CachingAllocator allocator;
    private final Map<String, CudaModule> modules = new ConcurrentHashMap<>();
    private volatile CublasLt blas;

    CudaDevice(int index) {
        this.index = index;
        this.handle = Driver.deviceGet(index);
        this.context = Driver.primaryCtxRetain(handle);
        this.name = Driver.deviceName(handle);
        this.computeMajor = Driver.deviceAttribute(handle, Driver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.computeMinor = Driver.deviceAttribute(handle, Driver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = Driver.deviceAttribute(handle, Driver.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.totalMemory = Driver.deviceTotalMem(handle);
        makeCurrent();
        this.defaultStream = new CudaStream(this, Driver.streamCreate(Driver.CU_STREAM_NON_BLOCKING));
        this.allocator = new CachingAllocator(index, new DriverMemory(this));
    }

    /** Makes this device's context current on the calling thread (a no-op when it already is). */
    public void makeCurrent() {
        if (CURRENT.get() != this) {
            Driver.ctxSetCurrent(context);
            CURRENT.set(this);
        }
    }

    public int index() { return index; }
    public String name() { return name; }
    public int computeMajor() { return computeMajor; }
    public int computeMinor() { return computeMinor; }
    /** e.g. {@code "sm_90"} for an H100. */
    public String arch() { return "sm_" + computeMajor + computeMinor; }
    public int multiprocessors() { return multiprocessors; }
    public long totalMemory() { return totalMemory; }
    public int attribute(int cuDeviceAttribute) { return Driver.deviceAttribute(handle, cuDeviceAttribute); }

    /** {free, total} bytes on this device right now. */
    public long[] memoryInfo() {
        makeCurrent();
        return Driver.memGetInfo();
    }

    /** This device's default stream (non-blocking, so it can be captured into graphs). */
    public CudaStream defaultStream() { return defaultStream; }

    /** A new non-blocking stream; close it when done. */
    public CudaStream newStream() {
        makeCurrent();
        return new CudaStream(this, Driver.streamCreate(Driver.CU_STREAM_NON_BLOCKING));
    }

    public CudaEvent newEvent(boolean timing) {
        makeCurrent();
        return new CudaEvent(this, Driver.eventCreate(timing ? Driver.CU_EVENT_DEFAULT : Driver.CU_EVENT_DISABLE_TIMING));
    }

    public CachingAllocator allocator() { return allocator; }

    /** Allocates {@code bytes} for use on the default stream. */
    public DeviceBuffer allocate(long bytes) { return allocator.allocate(bytes, defaultStream); }

    public DeviceBuffer allocate(long bytes, CudaStream stream) { return allocator.allocate(bytes, stream); }

    /** Waits for all work on this device. */
    public void synchronize() {
        makeCurrent();
        Driver.ctxSynchronize();
    }

    /** The kernel module compiled from resource {@code kernels/<name>} (e.g. "elementwise.cu"), loaded once. */
    public CudaModule module(String resourceName) {
        return modules.computeIfAbsent(resourceName, r -> KernelCompiler.shared().load(this, r));
    }

    /** A module compiled from source text (tests, generated kernels); cached on disk like resources. */
    public CudaModule moduleFromSource(String name, String source) {
        return KernelCompiler.shared().load(this, name, source);
    }

    public CudaFunction function(String resourceName, String kernelName) {
        return module(resourceName).function(kernelName);
    }

    /** This device's cuBLASLt handle, created on first use. */
    public CublasLt blas() {
        CublasLt b = blas;
        if (b == null) {
            synchronized (this) {
                if (blas == null) blas = new CublasLt(this);
                b = blas;
            }
        }
        return b;
    }

    // ---- synchronous copies on the default stream (see CudaStream for the rules) ----

    public void copyToDevice(MemorySegment src, long dst, long bytes) { defaultStream.copyToDevice(src, dst, bytes); }

    public void copyToHost(long src, MemorySegment dst, long bytes) { defaultStream.copyToHost(src, dst, bytes); }

    public void copyToDevice(float[] src, long dst) { defaultStream.copyToDevice(src, dst); }

    public float[] copyToHostFloats(long src, int count) { return defaultStream.copyToHostFloats(src, count); }

    @Override
    public String toString() { return "cuda:" + index + " (" + name + ", " + arch() + ")"; }

    /** The allocator's view of this device: cuMemAlloc/cuMemFree/cuMemGetInfo with the context current. */
    private record DriverMemory(CudaDevice device) implements DeviceMemory {
        @Override public long malloc(long bytes) {
            device.makeCurrent();
            return Driver.memAlloc(bytes);
        }
        @Override public void free(long pointer) {
            device.makeCurrent();
            Driver.memFree(pointer);
        }
        @Override public long[] memoryInfo() { return device.memoryInfo(); }
        @Override public long totalMemory() { return device.totalMemory; }
        @Override public void synchronize() { device.synchronize(); }
    }
}
