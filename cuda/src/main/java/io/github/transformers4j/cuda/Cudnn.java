package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * cuDNN's backend (graph) API on one device, through FFM: tensors and operations as descriptors, an operation graph,
 * the heuristic's engine configurations, an execution plan, then executions with a variant pack of pointers. Plain C,
 * no frontend: {@link Graph} builds a graph, {@link Plan} runs it. Optional: {@link #available()} says whether
 * {@code libcudnn.so.9} was found ({@link CudaLibraries#CUDNN}, the newest copy).
 */
public final class Cudnn implements AutoCloseable {
    // Enum values from cudnn_graph.h (cuDNN 9; members are only ever appended).
    /** cudnnBackendDescriptorType_t */
    static final int POINTWISE_DESCRIPTOR = 0, ENGINE_DESCRIPTOR = 2, ENGINECFG_DESCRIPTOR = 3, ENGINEHEUR_DESCRIPTOR = 4,
            EXECUTION_PLAN_DESCRIPTOR = 5, OPERATION_POINTWISE_DESCRIPTOR = 13, OPERATIONGRAPH_DESCRIPTOR = 15,
            VARIANT_PACK_DESCRIPTOR = 16, TENSOR_DESCRIPTOR = 17, MATMUL_DESCRIPTOR = 18, OPERATION_MATMUL_DESCRIPTOR = 19,
            REDUCTION_DESCRIPTOR = 21, OPERATION_REDUCTION_DESCRIPTOR = 22, OPERATION_RESHAPE_DESCRIPTOR = 31;
    /** cudnnBackendAttributeType_t */
    static final int TYPE_HANDLE = 0, TYPE_DATA_TYPE = 1, TYPE_BOOLEAN = 2, TYPE_INT64 = 3, TYPE_FLOAT = 4, TYPE_VOID_PTR = 6,
            TYPE_HEUR_MODE = 8, TYPE_NUMERICAL_NOTE = 11, TYPE_POINTWISE_MODE = 14, TYPE_BACKEND_DESCRIPTOR = 15,
            TYPE_REDUCTION_OPERATOR = 18;
    /** cudnnBackendAttributeName_t */
    static final int POINTWISE_MODE = 0, POINTWISE_MATH_PREC = 1, POINTWISE_AXIS = 9,
            ENGINEHEUR_MODE = 200, ENGINEHEUR_OPERATION_GRAPH = 201, ENGINEHEUR_RESULTS = 202,
            ENGINECFG_ENGINE = 300,
            EXECUTION_PLAN_HANDLE = 400, EXECUTION_PLAN_ENGINE_CONFIG = 401, EXECUTION_PLAN_WORKSPACE_SIZE = 402,
            OPERATION_POINTWISE_PW_DESCRIPTOR = 750, OPERATION_POINTWISE_XDESC = 751, OPERATION_POINTWISE_BDESC = 752,
            OPERATION_POINTWISE_YDESC = 753, OPERATION_POINTWISE_ALPHA1 = 754, OPERATION_POINTWISE_ALPHA2 = 755,
            OPERATION_POINTWISE_TDESC = 758,
            OPERATIONGRAPH_HANDLE = 800, OPERATIONGRAPH_OPS = 801,
            TENSOR_BYTE_ALIGNMENT = 900, TENSOR_DATA_TYPE = 901, TENSOR_DIMENSIONS = 902, TENSOR_STRIDES = 903,
            TENSOR_UNIQUE_ID = 906, TENSOR_IS_VIRTUAL = 907, TENSOR_IS_BY_VALUE = 908,
            VARIANT_PACK_UNIQUE_IDS = 1000, VARIANT_PACK_DATA_POINTERS = 1001, VARIANT_PACK_WORKSPACE = 1003,
            ENGINE_GLOBAL_INDEX = 1301, ENGINE_NUMERICAL_NOTE = 1303,
            MATMUL_COMP_TYPE = 1500,
            OPERATION_MATMUL_ADESC = 1520, OPERATION_MATMUL_BDESC = 1521, OPERATION_MATMUL_CDESC = 1522, OPERATION_MATMUL_DESC = 1523,
            REDUCTION_OPERATOR = 1600, REDUCTION_COMP_TYPE = 1601,
            OPERATION_REDUCTION_XDESC = 1610, OPERATION_REDUCTION_YDESC = 1611, OPERATION_REDUCTION_DESC = 1612,
            OPERATION_RESHAPE_XDESC = 2200, OPERATION_RESHAPE_YDESC = 2201;
    /** cudnnDataType_t */
    public static final int FLOAT = 0, INT32 = 4, BFLOAT16 = 9, BOOLEAN = 11;
    /** cudnnPointwiseMode_t */
    public static final int ADD = 0, MUL = 1, DIV = 6, SUB = 9, EXP = 13, LOG = 15, IDENTITY = 21, CMP_GE = 303, GEN_INDEX = 501,
            BINARY_SELECT = 601;
    /** cudnnReduceTensorOp_t */
    public static final int REDUCE_ADD = 0, REDUCE_MAX = 3;
    /** cudnnBackendHeurMode_t */
    static final int HEUR_MODE_FALLBACK = 2, HEUR_MODE_A = 3;
    /** cudnnBackendNumericalNote_t: an engine that uses atomics (results may differ in the last bits between runs). */
    static final int NOTE_NONDETERMINISTIC = 4;
    /** cudnnStatus_t: success; 3000-3999 mean "not supported" (another engine may do). */
    static final int SUCCESS = 0;

    private static volatile Lib lib;

    /** The library's downcalls, loaded on first use. */
    private record Lib(Path path, MethodHandle create, MethodHandle destroy, MethodHandle setStream, MethodHandle version,
                       MethodHandle errorString, MethodHandle lastError, MethodHandle createDescriptor,
                       MethodHandle destroyDescriptor, MethodHandle finalizeDescriptor, MethodHandle setAttribute,
                       MethodHandle getAttribute, MethodHandle execute) {
        /** cuDNN 9's sub-libraries, each before those that need it. */
        private static final List<String> PARTS = List.of("libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9",
                "libcudnn_adv.so.9", "libcudnn_engines_runtime_compiled.so.9", "libcudnn_engines_precompiled.so.9",
                "libcudnn_heuristic.so.9");

        static Lib load(Path path) {
            // libcudnn.so.9 opens its parts by soname when first needed, and the dynamic linker would take them from the
            // system folders: a pip wheel's 9.19 would run a system 9.14's engines. Opened here from its own folder first,
            // the soname finds them already loaded. A part that does not load is left to cuDNN (it names it when needed).
            for (String part : PARTS) {
                Path p = path.resolveSibling(part);
                if (Files.isRegularFile(p)) {
                    try {
                        Native.open(p);
                    } catch (IllegalArgumentException e) {
                        // not loadable here: cuDNN's own error will say so if the part is needed
                    }
                }
            }
            SymbolLookup l = Native.open(path);
            return new Lib(path, h(l, "cudnnCreate", ADDRESS), h(l, "cudnnDestroy", JAVA_LONG),
                    h(l, "cudnnSetStream", JAVA_LONG, JAVA_LONG),
                    Native.downcall(l, "cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG)),
                    Native.downcall(l, "cudnnGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT)),
                    Native.downcallOrNull(l, "cudnnGetLastErrorString", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG)),
                    h(l, "cudnnBackendCreateDescriptor", JAVA_INT, ADDRESS), h(l, "cudnnBackendDestroyDescriptor", JAVA_LONG),
                    h(l, "cudnnBackendFinalize", JAVA_LONG),
                    h(l, "cudnnBackendSetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
                    h(l, "cudnnBackendGetAttribute", JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS),
                    h(l, "cudnnBackendExecute", JAVA_LONG, JAVA_LONG, JAVA_LONG));
        }

        private static MethodHandle h(SymbolLookup l, String name, MemoryLayout... args) {
            return Native.downcall(l, name, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    /** Why cuDNN is not usable here, or null when it is (the library found and loaded). */
    public static String unavailableReason() {
        try {
            lib();
            return null;
        } catch (RuntimeException | Error e) {
            return "cuDNN unavailable: " + e.getMessage();
        }
    }

    public static boolean available() {
        return unavailableReason() == null;
    }

    private static Lib lib() {
        Lib l = lib;
        if (l == null) {
            synchronized (Cudnn.class) {
                if (lib == null) {
                    Path p = CudaLibraries.fromEnvironment().findNewest(CudaLibraries.CUDNN)
                            .orElseThrow(() -> new IllegalStateException("libcudnn.so.9 not found (T4J_CUDA_LIB_PATH, "
                                    + "LD_LIBRARY_PATH, system and Python nvidia/*/lib folders)"));
                    lib = Lib.load(p);
                }
                l = lib;
            }
        }
        return l;
    }

    /** cudnnGetVersion(): e.g. 91900 for 9.19.0 (major * 10000 + minor * 100 + patch). */
    public static long version() {
        try { return (long) lib().version().invokeExact(); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    public static String versionString() {
        long v = version();
        return (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100) + " (" + lib().path() + ")";
    }

    private final long handle;
    private long boundStream = -1;

    Cudnn(CudaDevice device) {
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cudnnCreate", (int) lib().create().invokeExact(p));
            this.handle = p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    @Override
    public void close() {
        try { check("cudnnDestroy", (int) lib().destroy().invokeExact(handle)); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** Throws a {@link CudaException} naming the call, the status and cuDNN's last detailed message. */
    static void check(String what, int status) {
        if (status != SUCCESS) throw new CudaException(what, status, errorString(status), lastError());
    }

    static String errorString(int status) {
        try { return Native.cString((MemorySegment) lib().errorString().invokeExact(status)); } catch (Throwable t) { return "cudnnStatus_t " + status; }
    }

    /** cuDNN's last detailed error message (cudnnGetLastErrorString), or "" where the library has none. */
    static String lastError() {
        MethodHandle h = lib().lastError();
        if (h == null) return "";
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(2048);
            h.invokeExact(buf, 2048L);
            return buf.getString(0);
        } catch (Throwable t) {
            return "";
        }
    }

    /** Whether a status is one of the "not supported" family (3000-3999): another engine or path may do. */
    static boolean notSupported(CudaException e) {
        return e.code() >= 3000 && e.code() < 4000;
    }

    // ------------------------------------------------------------ descriptors

    static long create(int type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check("cudnnBackendCreateDescriptor(" + type + ")", (int) lib().createDescriptor().invokeExact(type, p));
            return p.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    static void destroy(long desc) {
        try { int ignored = (int) lib().destroyDescriptor().invokeExact(desc); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    static void finish(long desc, String what) {
        try { check("cudnnBackendFinalize(" + what + ")", (int) lib().finalizeDescriptor().invokeExact(desc)); } catch (Throwable t) { throw Native.rethrow(t); }
    }

    static void set(long desc, int name, int type, long count, MemorySegment values) {
        try {
            check("cudnnBackendSetAttribute(" + name + ")", (int) lib().setAttribute().invokeExact(desc, name, type, count, values));
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    /** int64 values (dims, strides, ids, alignment). */
    static void setLongs(long desc, int name, long... v) {
        setHandles(desc, name, TYPE_INT64, v);
    }

    /** 64-bit values of {@code type}: descriptor handles, the cuDNN handle (HANDLE), int64s. */
    static void setHandles(long desc, int name, int type, long... v) {
        try (Arena a = Arena.ofConfined()) { set(desc, name, type, v.length, a.allocateFrom(JAVA_LONG, v)); }
    }

    /** One 32-bit enum value (data type, pointwise mode, heuristic mode, reduction operator). */
    static void setEnum(long desc, int name, int type, int v) {
        try (Arena a = Arena.ofConfined()) { set(desc, name, type, 1, a.allocateFrom(JAVA_INT, v)); }
    }

    static void setFloat(long desc, int name, float v) {
        try (Arena a = Arena.ofConfined()) { set(desc, name, TYPE_FLOAT, 1, a.allocateFrom(JAVA_FLOAT, v)); }
    }

    /** A C bool: one byte. */
    static void setBoolean(long desc, int name, boolean v) {
        try (Arena a = Arena.ofConfined()) { set(desc, name, TYPE_BOOLEAN, 1, a.allocateFrom(JAVA_BYTE, (byte) (v ? 1 : 0))); }
    }

    /** Up to {@code max} values of an attribute: int64s, or 32-bit enums (notes) widened. */
    static long[] getLongs(long desc, int name, int type, int max) {
        try (Arena a = Arena.ofConfined()) {
            boolean wide = type == TYPE_INT64;
            MemorySegment out = a.allocate(8L * Math.max(1, max)), count = a.allocate(JAVA_LONG);
            check("cudnnBackendGetAttribute(" + name + ")", (int) lib().getAttribute().invokeExact(desc, name, type, (long) max, count, out));
            long[] r = new long[(int) count.get(JAVA_LONG, 0)];
            for (int i = 0; i < r.length; i++) r[i] = wide ? out.getAtIndex(JAVA_LONG, i) : out.getAtIndex(JAVA_INT, i);
            return r;
        } catch (Throwable t) { throw Native.rethrow(t); }
    }

    // ------------------------------------------------------------ graphs

    /**
     * An operation graph under construction: tensors (each with a unique id) and operations, added in the order the
     * engines expect, then {@link #plan}. Owns every descriptor it created; {@link Plan#close} destroys them.
     */
    final class Graph {
        private final List<Long> owned = new ArrayList<>();
        private final List<Long> ops = new ArrayList<>();
        private final Map<Long, Long> uids = new HashMap<>();
        private final String name;

        Graph(String name) { this.name = name; }

        private long own(long desc) {
            owned.add(desc);
            return desc;
        }

        /** A tensor of {@code dims} with {@code strides} (elements), 16-byte aligned; virtual ones live only inside the engine. */
        long tensor(int dtype, long[] dims, long[] strides, boolean virtual) {
            return tensor(dtype, dims, strides, virtual, false);
        }

        /** A host scalar passed by value (an fp32 at a host pointer in the variant pack): dims and strides all 1. */
        long scalar() {
            return tensor(FLOAT, new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1}, false, true);
        }

        private long tensor(int dtype, long[] dims, long[] strides, boolean virtual, boolean byValue) {
            long t = own(create(TENSOR_DESCRIPTOR));
            long uid = uids.size() + 1;
            setEnum(t, TENSOR_DATA_TYPE, TYPE_DATA_TYPE, dtype);
            setLongs(t, TENSOR_DIMENSIONS, dims);
            setLongs(t, TENSOR_STRIDES, strides);
            setLongs(t, TENSOR_UNIQUE_ID, uid);
            setLongs(t, TENSOR_BYTE_ALIGNMENT, 16);
            if (virtual) setBoolean(t, TENSOR_IS_VIRTUAL, true);
            if (byValue) setBoolean(t, TENSOR_IS_BY_VALUE, true);
            finish(t, name + " tensor " + uid + " " + java.util.Arrays.toString(dims) + " strides " + java.util.Arrays.toString(strides));
            uids.put(t, uid);
            return t;
        }

        long uid(long tensor) { return uids.get(tensor); }

        /** y = mode(x[, b][, t]) in {@code prec}; {@code axis} for GEN_INDEX (else -1). b and t may be 0. */
        void pointwise(int mode, int prec, long x, long b, long t, long y, int axis) {
            long pw = own(create(POINTWISE_DESCRIPTOR));
            setEnum(pw, POINTWISE_MODE, TYPE_POINTWISE_MODE, mode);
            setEnum(pw, POINTWISE_MATH_PREC, TYPE_DATA_TYPE, prec);
            if (axis >= 0) setLongs(pw, POINTWISE_AXIS, axis);
            finish(pw, name + " pointwise " + mode);
            long op = own(create(OPERATION_POINTWISE_DESCRIPTOR));
            setHandles(op, OPERATION_POINTWISE_PW_DESCRIPTOR, TYPE_BACKEND_DESCRIPTOR, pw);
            setHandles(op, OPERATION_POINTWISE_XDESC, TYPE_BACKEND_DESCRIPTOR, x);
            if (b != 0) setHandles(op, OPERATION_POINTWISE_BDESC, TYPE_BACKEND_DESCRIPTOR, b);
            if (t != 0) setHandles(op, OPERATION_POINTWISE_TDESC, TYPE_BACKEND_DESCRIPTOR, t);
            setHandles(op, OPERATION_POINTWISE_YDESC, TYPE_BACKEND_DESCRIPTOR, y);
            setFloat(op, OPERATION_POINTWISE_ALPHA1, 1f);
            setFloat(op, OPERATION_POINTWISE_ALPHA2, 1f);
            finish(op, name + " pointwise operation " + mode);
            ops.add(op);
        }

        void pointwise(int mode, long x, long b, long y) {
            pointwise(mode, FLOAT, x, b, 0, y, -1);
        }

        /** c[..., M, N] = a[..., M, K] b[..., K, N], fp32 accumulation. */
        void matmul(long a, long b, long c) {
            long mm = own(create(MATMUL_DESCRIPTOR));
            setEnum(mm, MATMUL_COMP_TYPE, TYPE_DATA_TYPE, FLOAT);
            finish(mm, name + " matmul");
            long op = own(create(OPERATION_MATMUL_DESCRIPTOR));
            setHandles(op, OPERATION_MATMUL_ADESC, TYPE_BACKEND_DESCRIPTOR, a);
            setHandles(op, OPERATION_MATMUL_BDESC, TYPE_BACKEND_DESCRIPTOR, b);
            setHandles(op, OPERATION_MATMUL_CDESC, TYPE_BACKEND_DESCRIPTOR, c);
            setHandles(op, OPERATION_MATMUL_DESC, TYPE_BACKEND_DESCRIPTOR, mm);
            finish(op, name + " matmul operation");
            ops.add(op);
        }

        /** y = reduce(x) over the dims where y has size 1. */
        void reduction(int operator, long x, long y) {
            long r = own(create(REDUCTION_DESCRIPTOR));
            setEnum(r, REDUCTION_COMP_TYPE, TYPE_DATA_TYPE, FLOAT);
            setEnum(r, REDUCTION_OPERATOR, TYPE_REDUCTION_OPERATOR, operator);
            finish(r, name + " reduction");
            long op = own(create(OPERATION_REDUCTION_DESCRIPTOR));
            setHandles(op, OPERATION_REDUCTION_DESC, TYPE_BACKEND_DESCRIPTOR, r);
            setHandles(op, OPERATION_REDUCTION_XDESC, TYPE_BACKEND_DESCRIPTOR, x);
            setHandles(op, OPERATION_REDUCTION_YDESC, TYPE_BACKEND_DESCRIPTOR, y);
            finish(op, name + " reduction operation");
            ops.add(op);
        }

        /** y: x seen through other dims and strides (a transpose; no data moves). */
        void reshape(long x, long y) {
            long op = own(create(OPERATION_RESHAPE_DESCRIPTOR));
            setHandles(op, OPERATION_RESHAPE_XDESC, TYPE_BACKEND_DESCRIPTOR, x);
            setHandles(op, OPERATION_RESHAPE_YDESC, TYPE_BACKEND_DESCRIPTOR, y);
            finish(op, name + " reshape operation");
            ops.add(op);
        }

        /**
         * The operation graph, the heuristic's engine configurations (mode A, then the fallback list) and the first
         * that builds an execution plan. Throws a {@link CudaException} whose code is cuDNN's status when none does
         * (3000-3999: not supported), after destroying what it made.
         */
        Plan plan() {
            try {
                long graph = own(create(OPERATIONGRAPH_DESCRIPTOR));
                setHandles(graph, OPERATIONGRAPH_OPS, TYPE_BACKEND_DESCRIPTOR, ops.stream().mapToLong(Long::longValue).toArray());
                setHandles(graph, OPERATIONGRAPH_HANDLE, TYPE_HANDLE, handle);
                finish(graph, name + " operation graph (" + ops.size() + " operations)");
                CudaException last = null;
                for (int mode : new int[] {HEUR_MODE_A, HEUR_MODE_FALLBACK}) {
                    long heur = own(create(ENGINEHEUR_DESCRIPTOR));
                    setHandles(heur, ENGINEHEUR_OPERATION_GRAPH, TYPE_BACKEND_DESCRIPTOR, graph);
                    setEnum(heur, ENGINEHEUR_MODE, TYPE_HEUR_MODE, mode);
                    finish(heur, name + " engine heuristics " + mode);
                    int n = (int) count(heur, ENGINEHEUR_RESULTS);
                    long[] cfgs = new long[n];
                    for (int i = 0; i < n; i++) cfgs[i] = own(create(ENGINECFG_DESCRIPTOR));
                    int got = fill(heur, ENGINEHEUR_RESULTS, cfgs);
                    for (int i = 0; i < got; i++) {
                        long plan = create(EXECUTION_PLAN_DESCRIPTOR);
                        try {
                            setHandles(plan, EXECUTION_PLAN_ENGINE_CONFIG, TYPE_BACKEND_DESCRIPTOR, cfgs[i]);
                            setHandles(plan, EXECUTION_PLAN_HANDLE, TYPE_HANDLE, handle);
                            finish(plan, name + " execution plan (engine config " + i + " of " + got + ")");
                            long ws = getLongs(plan, EXECUTION_PLAN_WORKSPACE_SIZE, TYPE_INT64, 1)[0];
                            own(plan);
                            return new Plan(this, plan, ws, engineNotes(cfgs[i]));
                        } catch (CudaException e) {
                            destroy(plan);
                            last = e;
                        }
                    }
                }
                throw last != null ? last : new CudaException(name + ": cuDNN's heuristics offered no engine", 3000,
                        "CUDNN_STATUS_NOT_SUPPORTED", lastError());
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        /** The engine of a configuration: its global index and whether it is marked nondeterministic. */
        private String engineNotes(long cfg) {
            try {
                long engine = own(create(ENGINE_DESCRIPTOR));
                fill(cfg, ENGINECFG_ENGINE, engine);
                long index = getLongs(engine, ENGINE_GLOBAL_INDEX, TYPE_INT64, 1)[0];
                long[] notes = getLongs(engine, ENGINE_NUMERICAL_NOTE, TYPE_NUMERICAL_NOTE, 16);
                boolean nondet = java.util.Arrays.stream(notes).anyMatch(v -> v == NOTE_NONDETERMINISTIC);
                return "engine " + index + (nondet ? ", nondeterministic" : ", deterministic") + ", numerical notes "
                        + java.util.Arrays.toString(notes);
            } catch (Throwable t) {
                return "engine (notes not read: " + t.getMessage() + ")";
            }
        }

        private long count(long desc, int name) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment count = a.allocate(JAVA_LONG);
                check("cudnnBackendGetAttribute(" + name + ", count)", (int) lib().getAttribute().invokeExact(desc, name,
                        TYPE_BACKEND_DESCRIPTOR, 0L, count, MemorySegment.NULL));
                return count.get(JAVA_LONG, 0);
            } catch (Throwable t) { throw Native.rethrow(t); }
        }

        /** Fills descriptors created beforehand (engine configurations, an engine) from an attribute; returns how many. */
        private int fill(long desc, int name, long... targets) {
            if (targets.length == 0) return 0;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment arr = a.allocateFrom(JAVA_LONG, targets), count = a.allocate(JAVA_LONG);
                check("cudnnBackendGetAttribute(" + name + ")", (int) lib().getAttribute().invokeExact(desc, name,
                        TYPE_BACKEND_DESCRIPTOR, (long) targets.length, count, arr));
                return (int) count.get(JAVA_LONG, 0);
            } catch (Throwable t) { throw Native.rethrow(t); }
        }

        void close() {
            for (int i = owned.size() - 1; i >= 0; i--) destroy(owned.get(i));
            owned.clear();
        }
    }

    /** A built execution plan and the graph it came from (kept alive with it). */
    final class Plan implements AutoCloseable {
        private final Graph graph;
        private final long plan;
        private final long workspaceBytes;
        private final String engine;

        private Plan(Graph graph, long plan, long workspaceBytes, String engine) {
            this.graph = graph;
            this.plan = plan;
            this.workspaceBytes = workspaceBytes;
            this.engine = engine;
        }

        long workspaceBytes() { return workspaceBytes; }

        /** The chosen engine's index and notes, for messages. */
        String engine() { return engine; }

        /**
         * Runs the plan on {@code stream}: {@code tensors[i]} at {@code pointers[i]} (device pointers; host pointers for
         * by-value scalars), every non-virtual tensor once.
         */
        void execute(CudaStream stream, long[] tensors, long[] pointers, long workspace) {
            bind(stream);
            long pack = create(VARIANT_PACK_DESCRIPTOR);
            try (Arena a = Arena.ofConfined()) {
                long[] ids = new long[tensors.length];
                for (int i = 0; i < ids.length; i++) ids[i] = graph.uid(tensors[i]);
                set(pack, VARIANT_PACK_UNIQUE_IDS, TYPE_INT64, ids.length, a.allocateFrom(JAVA_LONG, ids));
                set(pack, VARIANT_PACK_DATA_POINTERS, TYPE_VOID_PTR, pointers.length, a.allocateFrom(JAVA_LONG, pointers));
                set(pack, VARIANT_PACK_WORKSPACE, TYPE_VOID_PTR, 1, a.allocateFrom(JAVA_LONG, workspace));
                Cudnn.finish(pack, graph.name + " variant pack");
                check("cudnnBackendExecute(" + graph.name + ")", (int) lib().execute().invokeExact(handle, plan, pack));
            } catch (Throwable t) {
                throw Native.rethrow(t);
            } finally {
                destroy(pack);
            }
        }

        @Override
        public void close() { graph.close(); }
    }

    Graph graph(String name) {
        return new Graph(name);
    }

    private synchronized void bind(CudaStream stream) {
        if (stream.handle() == boundStream) return;
        try { check("cudnnSetStream", (int) lib().setStream().invokeExact(handle, stream.handle())); } catch (Throwable t) { throw Native.rethrow(t); }
        boundStream = stream.handle();
    }
}
