package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * Bindings to the CUDA driver API ({@code libcuda.so.1}), one static method per C function, each checking its
 * CUresult. Symbol names are the ones cuda.h 13.0 maps the API names to ({@code cuMemAlloc} is
 * {@code cuMemAlloc_v2}, {@code cuGraphInstantiate} is {@code cuGraphInstantiateWithFlags}, ...), with the legacy
 * default-stream semantics (no {@code _ptds}/{@code _ptsz}). Calls that work on memory or modules need the owning
 * device's context current on the calling thread: {@link CudaDevice#makeCurrent()} does that.
 *
 * <p>Loaded on first use from the library {@link Cuda} found; touch it only after {@link Cuda#isAvailable()}.
 */
public final class Driver {
    public static final int CUDA_SUCCESS = 0;
    public static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public static final int CU_STREAM_NON_BLOCKING = 0x1;
    public static final int CU_EVENT_DEFAULT = 0x0;
    public static final int CU_EVENT_DISABLE_TIMING = 0x2;
    public static final int CU_MEMHOSTALLOC_PORTABLE = 0x1;
    public static final int CU_STREAM_CAPTURE_MODE_GLOBAL = 0;
    public static final int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;
    public static final int CU_STREAM_CAPTURE_MODE_RELAXED = 2;

    private static final SymbolLookup LIB = Native.open(Cuda.libraries().driver());

    private static MethodHandle h(String name, java.lang.foreign.MemoryLayout... args) {
        return Native.downcall(LIB, name, FunctionDescriptor.of(JAVA_INT, args));
    }

    // CUresult is an int; handles and CUdeviceptr are JAVA_LONG (see Native); host buffers are ADDRESS.
    private static final MethodHandle cuGetErrorName = h("cuGetErrorName", JAVA_INT, ADDRESS);
    private static final MethodHandle cuGetErrorString = h("cuGetErrorString", JAVA_INT, ADDRESS);
    private static final MethodHandle cuInit = h("cuInit", JAVA_INT);
    private static final MethodHandle cuDriverGetVersion = h("cuDriverGetVersion", ADDRESS);
    private static final MethodHandle cuDeviceGetCount = h("cuDeviceGetCount", ADDRESS);
    private static final MethodHandle cuDeviceGet = h("cuDeviceGet", ADDRESS, JAVA_INT);
    private static final MethodHandle cuDeviceGetName = h("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle cuDeviceGetAttribute = h("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
    private static final MethodHandle cuDeviceTotalMem = h("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
    private static final MethodHandle cuDevicePrimaryCtxRetain = h("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
    private static final MethodHandle cuDevicePrimaryCtxRelease = h("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
    private static final MethodHandle cuCtxSetCurrent = h("cuCtxSetCurrent", JAVA_LONG);
    private static final MethodHandle cuCtxSynchronize = h("cuCtxSynchronize");
    private static final MethodHandle cuMemAlloc = h("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
    private static final MethodHandle cuMemFree = h("cuMemFree_v2", JAVA_LONG);
    private static final MethodHandle cuMemGetInfo = h("cuMemGetInfo_v2", ADDRESS, ADDRESS);
    private static final MethodHandle cuMemHostAlloc = h("cuMemHostAlloc", ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle cuMemFreeHost = h("cuMemFreeHost", ADDRESS);
    private static final MethodHandle cuMemcpyHtoD = h("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
    private static final MethodHandle cuMemcpyDtoH = h("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemcpyDtoD = h("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemcpyHtoDAsync =
            h("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemcpyDtoHAsync =
            h("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemcpyDtoDAsync =
            h("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemsetD32 = h("cuMemsetD32_v2", JAVA_LONG, JAVA_INT, JAVA_LONG);
    private static final MethodHandle cuMemsetD8 = h("cuMemsetD8_v2", JAVA_LONG, JAVA_BYTE, JAVA_LONG);
    private static final MethodHandle cuMemsetD32Async = h("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuMemsetD8Async = h("cuMemsetD8Async", JAVA_LONG, JAVA_BYTE, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuStreamCreate = h("cuStreamCreate", ADDRESS, JAVA_INT);
    private static final MethodHandle cuStreamSynchronize = h("cuStreamSynchronize", JAVA_LONG);
    private static final MethodHandle cuStreamDestroy = h("cuStreamDestroy_v2", JAVA_LONG);
    private static final MethodHandle cuStreamWaitEvent = h("cuStreamWaitEvent", JAVA_LONG, JAVA_LONG, JAVA_INT);
    private static final MethodHandle cuEventCreate = h("cuEventCreate", ADDRESS, JAVA_INT);
    private static final MethodHandle cuEventRecord = h("cuEventRecord", JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuEventSynchronize = h("cuEventSynchronize", JAVA_LONG);
    private static final MethodHandle cuEventDestroy = h("cuEventDestroy_v2", JAVA_LONG);
    private static final MethodHandle cuEventElapsedTime = elapsedTimeHandle();
    private static final MethodHandle cuModuleLoadData = h("cuModuleLoadData", ADDRESS, ADDRESS);
    private static final MethodHandle cuModuleUnload = h("cuModuleUnload", JAVA_LONG);
    private static final MethodHandle cuModuleGetFunction = h("cuModuleGetFunction", ADDRESS, JAVA_LONG, ADDRESS);
    private static final MethodHandle cuFuncSetAttribute = h("cuFuncSetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT);
    private static final MethodHandle cuLaunchKernel = h("cuLaunchKernel", JAVA_LONG,
            JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS);
    private static final MethodHandle cuStreamBeginCapture = h("cuStreamBeginCapture_v2", JAVA_LONG, JAVA_INT);
    private static final MethodHandle cuStreamEndCapture = h("cuStreamEndCapture", JAVA_LONG, ADDRESS);
    private static final MethodHandle cuGraphInstantiate = h("cuGraphInstantiateWithFlags", ADDRESS, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuGraphLaunch = h("cuGraphLaunch", JAVA_LONG, JAVA_LONG);
    private static final MethodHandle cuGraphExecDestroy = h("cuGraphExecDestroy", JAVA_LONG);
    private static final MethodHandle cuGraphDestroy = h("cuGraphDestroy", JAVA_LONG);

    private Driver() {}

    /** cuda.h 13 maps cuEventElapsedTime to the _v2 symbol; older drivers export only the first one. */
    private static MethodHandle elapsedTimeHandle() {
        var fd = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG);
        MethodHandle v2 = Native.downcallOrNull(LIB, "cuEventElapsedTime_v2", fd);
        return v2 != null ? v2 : Native.downcall(LIB, "cuEventElapsedTime", fd);
    }

    static void check(String function, int result) {
        if (result != CUDA_SUCCESS) throw new CudaException(function, result, errorName(result), errorString(result));
    }

    public static String errorName(int result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuGetErrorName.invokeExact(result, p);
            return rc == CUDA_SUCCESS ? Native.cString(p.get(ADDRESS, 0)) : "CUresult " + result;
        } catch (Throwable t) {
            return "CUresult " + result;
        }
    }

    public static String errorString(int result) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int rc = (int) cuGetErrorString.invokeExact(result, p);
            return rc == CUDA_SUCCESS ? Native.cString(p.get(ADDRESS, 0)) : "unknown error";
        } catch (Throwable t) {
            return "unknown error";
        }
    }

    // ---- initialization and devices ----

    public static void init() {
        try { check("cuInit", (int) cuInit.invokeExact(0)); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Driver version as CUDA encodes it: 1000 * major + 10 * minor (13000 = 13.0). */
    public static int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDriverGetVersion", (int) cuDriverGetVersion.invokeExact(p));
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(p));
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** The CUdevice handle (an int) of the ordinal {@code index}. */
    public static int deviceGet(int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGet", (int) cuDeviceGet.invokeExact(p, index));
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(buf, 256, device));
            return buf.getString(0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static int deviceAttribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check("cuDeviceGetAttribute", (int) cuDeviceGetAttribute.invokeExact(p, attribute, device));
            return p.get(JAVA_INT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long deviceTotalMem(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuDeviceTotalMem_v2", (int) cuDeviceTotalMem.invokeExact(p, device));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ---- contexts ----

    public static long primaryCtxRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuDevicePrimaryCtxRetain", (int) cuDevicePrimaryCtxRetain.invokeExact(p, device));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void primaryCtxRelease(int device) {
        try { check("cuDevicePrimaryCtxRelease_v2", (int) cuDevicePrimaryCtxRelease.invokeExact(device)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void ctxSetCurrent(long context) {
        try { check("cuCtxSetCurrent", (int) cuCtxSetCurrent.invokeExact(context)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    private static final java.util.concurrent.atomic.LongAdder SYNCS = new java.util.concurrent.atomic.LongAdder();

    /** Host waits for the device since start (context, stream and event synchronisations): tests count them. */
    public static long synchronizations() { return SYNCS.sum(); }

    public static void ctxSynchronize() {
        SYNCS.increment();
        try { check("cuCtxSynchronize", (int) cuCtxSynchronize.invokeExact()); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ---- memory ----

    public static long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuMemAlloc_v2", (int) cuMemAlloc.invokeExact(p, bytes));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memFree(long dptr) {
        try { check("cuMemFree_v2", (int) cuMemFree.invokeExact(dptr)); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** {free, total} bytes of the current context's device. */
    public static long[] memGetInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            check("cuMemGetInfo_v2", (int) cuMemGetInfo.invokeExact(free, total));
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Page-locked host memory of {@code bytes}, as a segment of that size. */
    public static MemorySegment memHostAlloc(long bytes, int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check("cuMemHostAlloc", (int) cuMemHostAlloc.invokeExact(p, bytes, flags));
            return p.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memFreeHost(MemorySegment host) {
        try { check("cuMemFreeHost", (int) cuMemFreeHost.invokeExact(host)); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        try { check("cuMemcpyHtoD_v2", (int) cuMemcpyHtoD.invokeExact(dst, src, bytes)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        try { check("cuMemcpyDtoH_v2", (int) cuMemcpyDtoH.invokeExact(dst, src, bytes)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memcpyDtoD(long dst, long src, long bytes) {
        try { check("cuMemcpyDtoD_v2", (int) cuMemcpyDtoD.invokeExact(dst, src, bytes)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Asynchronous only when {@code src} is pinned ({@link PinnedBuffer}); otherwise the driver stages it. */
    public static void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, long stream) {
        try { check("cuMemcpyHtoDAsync_v2", (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, long stream) {
        try { check("cuMemcpyDtoHAsync_v2", (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memcpyDtoDAsync(long dst, long src, long bytes, long stream) {
        try { check("cuMemcpyDtoDAsync_v2", (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    public static void memsetD32(long dst, int value, long count) {
        try { check("cuMemsetD32_v2", (int) cuMemsetD32.invokeExact(dst, value, count)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memsetD8(long dst, byte value, long count) {
        try { check("cuMemsetD8_v2", (int) cuMemsetD8.invokeExact(dst, value, count)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memsetD32Async(long dst, int value, long count, long stream) {
        try { check("cuMemsetD32Async", (int) cuMemsetD32Async.invokeExact(dst, value, count, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void memsetD8Async(long dst, byte value, long count, long stream) {
        try { check("cuMemsetD8Async", (int) cuMemsetD8Async.invokeExact(dst, value, count, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ---- streams and events ----

    public static long streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuStreamCreate", (int) cuStreamCreate.invokeExact(p, flags));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void streamSynchronize(long stream) {
        SYNCS.increment();
        try { check("cuStreamSynchronize", (int) cuStreamSynchronize.invokeExact(stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void streamDestroy(long stream) {
        try { check("cuStreamDestroy_v2", (int) cuStreamDestroy.invokeExact(stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Makes future work on {@code stream} wait for {@code event} (device-side; the host does not block). */
    public static void streamWaitEvent(long stream, long event) {
        try { check("cuStreamWaitEvent", (int) cuStreamWaitEvent.invokeExact(stream, event, 0)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuEventCreate", (int) cuEventCreate.invokeExact(p, flags));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void eventRecord(long event, long stream) {
        try { check("cuEventRecord", (int) cuEventRecord.invokeExact(event, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void eventSynchronize(long event) {
        SYNCS.increment();
        try { check("cuEventSynchronize", (int) cuEventSynchronize.invokeExact(event)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void eventDestroy(long event) {
        try { check("cuEventDestroy_v2", (int) cuEventDestroy.invokeExact(event)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Milliseconds between two recorded events. */
    public static float eventElapsedTime(long start, long end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_FLOAT);
            check("cuEventElapsedTime", (int) cuEventElapsedTime.invokeExact(p, start, end));
            return p.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ---- modules and launches ----

    /** Loads a cubin or a NUL-terminated PTX image into the current context. */
    public static long moduleLoadData(MemorySegment image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuModuleLoadData", (int) cuModuleLoadData.invokeExact(p, image));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void moduleUnload(long module) {
        try { check("cuModuleUnload", (int) cuModuleUnload.invokeExact(module)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long moduleGetFunction(long module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            int rc = (int) cuModuleGetFunction.invokeExact(p, module, a.allocateFrom(name));
            if (rc != CUDA_SUCCESS) {
                throw new CudaException("cuModuleGetFunction", rc,
                        "cuModuleGetFunction(\"" + name + "\") failed: " + errorName(rc) + " (" + rc + "): "
                                + errorString(rc) + " (is the kernel declared extern \"C\"?)");
            }
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void funcSetAttribute(long function, int attribute, int value) {
        try { check("cuFuncSetAttribute", (int) cuFuncSetAttribute.invokeExact(function, attribute, value)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** {@code kernelParams} is a {@code void*[]} with one pointer to each argument's value. */
    public static void launchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                                    int sharedMemBytes, long stream, MemorySegment kernelParams) {
        try {
            check("cuLaunchKernel", (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ,
                    blockX, blockY, blockZ, sharedMemBytes, stream, kernelParams, MemorySegment.NULL));
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ---- graphs ----

    public static void streamBeginCapture(long stream, int mode) {
        try { check("cuStreamBeginCapture_v2", (int) cuStreamBeginCapture.invokeExact(stream, mode)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Ends capture and returns the CUgraph. */
    public static long streamEndCapture(long stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuStreamEndCapture", (int) cuStreamEndCapture.invokeExact(stream, p));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static long graphInstantiate(long graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cuGraphInstantiateWithFlags", (int) cuGraphInstantiate.invokeExact(p, graph, 0L));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void graphLaunch(long graphExec, long stream) {
        try { check("cuGraphLaunch", (int) cuGraphLaunch.invokeExact(graphExec, stream)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void graphExecDestroy(long graphExec) {
        try { check("cuGraphExecDestroy", (int) cuGraphExecDestroy.invokeExact(graphExec)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static void graphDestroy(long graph) {
        try { check("cuGraphDestroy", (int) cuGraphDestroy.invokeExact(graph)); }
        catch (Throwable t) { throw Native.rethrow(t); }
    }
}
