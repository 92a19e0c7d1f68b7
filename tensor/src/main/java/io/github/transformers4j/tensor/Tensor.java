package io.github.transformers4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * An n-dimensional array on a device, with autograd. Views (view, permute, narrow, expand, ...) share storage;
 * everything else allocates a new contiguous tensor. Names and semantics follow PyTorch.
 */
public final class Tensor {
    final Storage storage;
    private final int[] shape;
    private final long[] strides;
    private final long offset;

    boolean requiresGrad;
    boolean retainsGrad;
    Tensor grad;
    Node gradFn;
    /** Autocast's low-precision copy of this leaf (see Autocast.weightCopy) and the storage version it holds. */
    Tensor lowCopy;
    long lowCopyVersion = -1;

    Tensor(Storage storage, int[] shape, long[] strides, long offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ---------------------------------------------------------------- metadata

    public int[] shape() {
        return shape.clone();
    }

    public int size(int dim) {
        return shape[Shape.wrapDim("size", dim, shape.length)];
    }

    public int dim() {
        return shape.length;
    }

    public long numel() {
        return Shape.numel(shape);
    }

    public long[] stride() {
        return strides.clone();
    }

    public long stride(int dim) {
        return strides[Shape.wrapDim("stride", dim, shape.length)];
    }

    /** Offset of element [0, ..., 0] in the storage, in elements. */
    public long storageOffset() {
        return offset;
    }

    public Storage storage() {
        return storage;
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Device device() {
        return storage.device();
    }

    Backend backend() {
        return Backends.of(storage.device());
    }

    public boolean isContiguous() {
        long expect = 1;
        boolean inPlace = true;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return true; // empty: no element is out of place (as PyTorch says)
            if (shape[i] != 1 && strides[i] != expect) inPlace = false;
            expect *= shape[i];
        }
        return inPlace;
    }

    // ---------------------------------------------------------------- autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as a variable whose gradient backward() accumulates into {@link #grad()}. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) {
            throw new IllegalStateException("requiresGrad(false) on a non-leaf tensor: use detach()");
        }
        if (on && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("requiresGrad: only floating-point tensors can require gradients, got " + dtype());
        }
        this.requiresGrad = on;
        return this;
    }

    /** Keeps this non-leaf tensor's gradient in {@link #grad()} during backward (for inspection). */
    public Tensor retainGrad() {
        retainsGrad = true;
        return this;
    }

    public Tensor grad() {
        return grad;
    }

    /**
     * Sets the gradient, as PyTorch's {@code t.grad = g}: g must have this tensor's shape, dtype and device (or be null,
     * which drops it); the next backward accumulates into it. The tensor is kept as given (no copy).
     */
    public void setGrad(Tensor g) {
        if (g != null && (!java.util.Arrays.equals(g.shape(), shape()) || g.dtype() != dtype() || !g.device().equals(device()))) {
            throw new IllegalArgumentException("setGrad: gradient " + g.dtype() + " " + Shape.str(g.shape()) + " on " + g.device()
                    + " does not match the tensor " + dtype() + " " + Shape.str(shape()) + " on " + device());
        }
        this.grad = g;
    }

    /** Releases the gradient's memory now and sets it to null (zero_grad with set_to_none, without waiting for GC). */
    public void clearGrad() {
        if (grad != null) grad.release();
        grad = null;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Name of the op that produced this tensor ("" for leaves): handy when inspecting graphs. */
    public String gradFnName() {
        return gradFn == null ? "" : gradFn.op;
    }

    public void backward() {
        if (numel() != 1) {
            throw new IllegalArgumentException("backward: implicit gradient only for scalar outputs, got shape "
                    + Shape.str(shape) + "; pass an explicit gradient");
        }
        Autograd.backward(this, Tensor.onesLike(this));
    }

    public void backward(Tensor gradient) {
        Autograd.backward(this, gradient);
    }

    /** Same storage, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    // ---------------------------------------------------------------- memory

    /** Lets this tensor's storage outlive the memory scope it was created in. */
    public Tensor keep() {
        storage.kept = true;
        return this;
    }

    /** Releases the storage now (every view of it becomes unusable). */
    public void release() {
        storage.release();
    }

    // ---------------------------------------------------------------- creation

    static Tensor empty(DType dtype, Device device, int... shape) {
        Shape.checkNonNegative("empty", shape);
        Storage s = Backends.of(device).allocate(dtype, Shape.numel(shape));
        Memory.register(s);
        return new Tensor(s, shape.clone(), Shape.contiguousStrides(shape), 0);
    }

    static Tensor emptyLike(Tensor t) {
        return empty(t.dtype(), t.device(), t.shape);
    }

    public static Tensor zeros(int... shape) {
        return full(0, DType.F32, Device.CPU, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return full(0, dtype, Device.CPU, shape);
    }

    public static Tensor ones(int... shape) {
        return full(1, DType.F32, Device.CPU, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1, dtype, Device.CPU, shape);
    }

    public static Tensor full(double value, DType dtype, Device device, int... shape) {
        Tensor t = empty(dtype, device, shape);
        t.backend().fill(t, value);
        return t;
    }

    public static Tensor full(double value, int... shape) {
        return full(value, DType.F32, Device.CPU, shape);
    }

    public static Tensor zerosLike(Tensor t) {
        return full(0, t.dtype(), t.device(), t.shape);
    }

    public static Tensor onesLike(Tensor t) {
        return full(1, t.dtype(), t.device(), t.shape);
    }

    public static Tensor scalar(double value) {
        return full(value, DType.F32, Device.CPU);
    }

    public static Tensor scalar(double value, DType dtype) {
        return full(value, dtype, Device.CPU);
    }

    /** Values start, start+step, ... below end, as int64 when all three are integral, else float32. */
    public static Tensor arange(double start, double end, double step) {
        boolean integral = start == Math.rint(start) && end == Math.rint(end) && step == Math.rint(step);
        return arange(start, end, step, integral ? DType.I64 : DType.F32);
    }

    public static Tensor arange(double start, double end, double step, DType dtype) {
        if (step == 0 || (end - start) / step < 0) {
            throw new IllegalArgumentException("arange: empty or infinite range start=" + start + " end=" + end + " step=" + step);
        }
        int n = (int) Math.ceil((end - start) / step);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = start + i * step;
        return of(v, n).to(dtype);
    }

    public static Tensor arange(long end) {
        return arange(0, end, 1);
    }

    public static Tensor eye(int n) {
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) v[i * n + i] = 1;
        return of(v, n, n).to(DType.F32);
    }

    public static Tensor of(float[] data, int... shape) {
        checkData("of", data.length, shape);
        Tensor t = empty(DType.F32, Device.CPU, shape);
        Capture.checkHost("a host-to-device copy");
        t.backend().copyFromHost(MemorySegment.ofArray(data), t);
        return t;
    }

    public static Tensor of(double[] data, int... shape) {
        checkData("of", data.length, shape);
        Tensor t = empty(DType.F64, Device.CPU, shape);
        Capture.checkHost("a host-to-device copy");
        t.backend().copyFromHost(MemorySegment.ofArray(data), t);
        return t;
    }

    public static Tensor ofLongs(long[] data, int... shape) {
        checkData("ofLongs", data.length, shape);
        Tensor t = empty(DType.I64, Device.CPU, shape);
        Capture.checkHost("a host-to-device copy");
        t.backend().copyFromHost(MemorySegment.ofArray(data), t);
        return t;
    }

    public static Tensor ofInts(int[] data, int... shape) {
        checkData("ofInts", data.length, shape);
        Tensor t = empty(DType.I32, Device.CPU, shape);
        Capture.checkHost("a host-to-device copy");
        t.backend().copyFromHost(MemorySegment.ofArray(data), t);
        return t;
    }

    public static Tensor ofBooleans(boolean[] data, int... shape) {
        checkData("ofBooleans", data.length, shape);
        byte[] b = new byte[data.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (data[i] ? 1 : 0);
        Tensor t = empty(DType.BOOL, Device.CPU, shape);
        Capture.checkHost("a host-to-device copy");
        t.backend().copyFromHost(MemorySegment.ofArray(b), t);
        return t;
    }

    /** Little-endian bytes (as in safetensors) of a contiguous tensor of {@code dtype} and {@code shape}. */
    public static Tensor fromBytes(DType dtype, int[] shape, ByteBuffer littleEndian) {
        long bytes = Shape.numel(shape) * dtype.byteSize();
        if (littleEndian.remaining() != bytes) {
            throw new IllegalArgumentException("fromBytes: " + dtype + " " + Shape.str(shape) + " needs " + bytes
                    + " bytes, got " + littleEndian.remaining());
        }
        Tensor t = empty(dtype, Device.CPU, shape);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(bytes, 1), 8);
            MemorySegment.copy(MemorySegment.ofBuffer(littleEndian), 0, host, 0, bytes);
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) throw new UnsupportedOperationException("big-endian hosts");
            Capture.checkHost("a host-to-device copy");
            t.backend().copyFromHost(host, t);
        }
        return t;
    }

    /** Contiguous little-endian bytes of this tensor (copied to the host). */
    public ByteBuffer toBytes() {
        Tensor c = contiguous();
        long bytes = c.numel() * dtype().byteSize();
        if (bytes > Integer.MAX_VALUE) throw new UnsupportedOperationException("toBytes: tensor over 2 GiB");
        ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        Capture.checkHost("a device-to-host copy");
        c.backend().copyToHost(c, MemorySegment.ofBuffer(buf));
        return buf;
    }

    private static void checkData(String op, int length, int[] shape) {
        Shape.checkNonNegative(op, shape);
        if (length != Shape.numel(shape)) {
            throw new IllegalArgumentException(op + ": " + length + " values do not fill shape " + Shape.str(shape)
                    + " (" + Shape.numel(shape) + " elements)");
        }
    }

    public static Tensor rand(Random4j rng, int... shape) {
        return Random.fill(Backend.Distribution.UNIFORM, rng, DType.F32, shape, 0, 1);
    }

    public static Tensor randn(Random4j rng, int... shape) {
        return Random.fill(Backend.Distribution.NORMAL, rng, DType.F32, shape, 0, 1);
    }

    /** Uniform integers in [low, high) as int64. */
    public static Tensor randint(Random4j rng, long low, long high, int... shape) {
        if (high <= low) throw new IllegalArgumentException("randint: empty range [" + low + ", " + high + ")");
        return Random.fill(Backend.Distribution.INT, rng, DType.I64, shape, low, high);
    }

    /** A random permutation of 0..n-1 (int64). */
    public static Tensor randperm(Random4j rng, int n) {
        return Random.randperm(rng, n);
    }

    // ---------------------------------------------------------------- host access

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item: tensor of shape " + Shape.str(shape) + " has " + numel() + " elements, expected 1");
        return toDoubleArray()[0];
    }

    public float[] toFloatArray() {
        Tensor c = to(DType.F32).contiguous();
        float[] out = new float[Math.toIntExact(c.numel())];
        Capture.checkHost("a device-to-host copy");
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
        return out;
    }

    public double[] toDoubleArray() {
        Tensor c = to(DType.F64).contiguous();
        double[] out = new double[Math.toIntExact(c.numel())];
        Capture.checkHost("a device-to-host copy");
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
        return out;
    }

    public long[] toLongArray() {
        Tensor c = to(DType.I64).contiguous();
        long[] out = new long[Math.toIntExact(c.numel())];
        Capture.checkHost("a device-to-host copy");
        c.backend().copyToHost(c, MemorySegment.ofArray(out));
        return out;
    }

    /** Element at a full index (slow; for tests and inspection). */
    public double get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("get: index of rank " + index.length + " for a tensor of shape " + Shape.str(shape));
        }
        Tensor t = this;
        for (int i = index.length - 1; i >= 0; i--) t = t.select(i, index[i]);
        return t.item();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("tensor(");
        if (numel() <= 64) {
            double[] v = toDoubleArray();
            sb.append(Arrays.toString(v));
        } else {
            sb.append("...");
        }
        sb.append(", shape=").append(Shape.str(shape)).append(", dtype=").append(dtype());
        if (device().type() != Device.Type.CPU) sb.append(", device=").append(device());
        if (gradFn != null) sb.append(", grad_fn=").append(gradFn.op);
        else if (requiresGrad) sb.append(", requires_grad=true");
        return sb.append(')').toString();
    }

    // ---------------------------------------------------------------- conversion and copies

    public Tensor to(DType dtype) {
        return dtype == dtype() ? this : Views.convert(this, dtype);
    }

    public Tensor to(Device device) {
        return device.equals(device()) ? this : Views.transfer(this, device);
    }

    /** This tensor if contiguous, else a contiguous copy (differentiable). */
    public Tensor contiguous() {
        return isContiguous() ? this : Views.copy(this);
    }

    /** Always a new contiguous copy (differentiable). */
    public Tensor clone() {
        return Views.copy(this);
    }

    // ---------------------------------------------------------------- views (Views.java)

    public Tensor view(int... shape) { return Views.view(this, shape); }
    public Tensor reshape(int... shape) { return Views.reshape(this, shape); }
    public Tensor permute(int... dims) { return Views.permute(this, dims); }
    public Tensor transpose(int d0, int d1) { return Views.transpose(this, d0, d1); }
    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        if (dim() != 2) throw new IllegalArgumentException("t: expected a 2-D tensor, got shape " + Shape.str(shape));
        return transpose(0, 1);
    }
    /** PyTorch's mT: swaps the last two dims. */
    public Tensor mT() { return transpose(-2, -1); }
    public Tensor expand(int... shape) { return Views.expand(this, shape); }
    public Tensor expandAs(Tensor other) { return Views.expand(this, other.shape); }
    public Tensor narrow(int dim, int start, int length) { return Views.narrow(this, dim, start, length); }
    public Tensor slice(int dim, int start, int end, int step) { return Views.slice(this, dim, start, end, step); }
    public Tensor select(int dim, int index) { return Views.select(this, dim, index); }
    public Tensor squeeze() { return Views.squeeze(this); }
    public Tensor squeeze(int dim) { return Views.squeeze(this, dim); }
    public Tensor unsqueeze(int dim) { return Views.unsqueeze(this, dim); }
    public Tensor flatten() { return flatten(0, -1); }
    public Tensor flatten(int startDim, int endDim) { return Views.flatten(this, startDim, endDim); }
    public Tensor unflatten(int dim, int... sizes) { return Views.unflatten(this, dim, sizes); }
    public List<Tensor> split(int splitSize, int dim) { return Views.split(this, splitSize, dim); }
    public List<Tensor> splitWithSizes(int[] sizes, int dim) { return Views.splitWithSizes(this, sizes, dim); }
    public List<Tensor> chunk(int chunks, int dim) { return Views.chunk(this, chunks, dim); }
    public static Tensor cat(List<Tensor> tensors, int dim) { return Views.cat(tensors, dim); }
    public static Tensor stack(List<Tensor> tensors, int dim) { return Views.stack(tensors, dim); }

    // ---------------------------------------------------------------- indexing (Indexing.java)

    public Tensor indexSelect(int dim, Tensor index) { return Indexing.indexSelect(this, dim, index); }
    public Tensor gather(int dim, Tensor index) { return Indexing.gather(this, dim, index); }
    /** Out-of-place: a copy of this with src added at index along dim. */
    public Tensor scatterAdd(int dim, Tensor index, Tensor src) { return Indexing.scatterAdd(this, dim, index, src); }
    /** Out-of-place: a copy of this with src rows added at index along dim. */
    public Tensor indexAdd(int dim, Tensor index, Tensor src) { return Indexing.indexAdd(this, dim, index, src); }
    public Tensor maskedFill(Tensor mask, double value) { return Elementwise.maskedFill(this, mask, value); }
    public static Tensor where(Tensor condition, Tensor a, Tensor b) { return Elementwise.where(condition, a, b); }

    // ---------------------------------------------------------------- elementwise (Elementwise.java)

    public Tensor add(Tensor o) { return Elementwise.binary(BinaryOp.ADD, this, o); }
    public Tensor add(double v) { return Elementwise.affine(this, 1, v); }
    public Tensor sub(Tensor o) { return Elementwise.binary(BinaryOp.SUB, this, o); }
    public Tensor sub(double v) { return Elementwise.affine(this, 1, -v); }
    public Tensor mul(Tensor o) { return Elementwise.binary(BinaryOp.MUL, this, o); }
    public Tensor mul(double v) { return Elementwise.affine(this, v, 0); }
    public Tensor div(Tensor o) { return Elementwise.binary(BinaryOp.DIV, this, o); }
    public Tensor div(double v) { return Elementwise.affine(this, 1 / v, 0); }
    public Tensor pow(Tensor o) { return Elementwise.binary(BinaryOp.POW, this, o); }
    public Tensor pow(double p) { return Elementwise.unary(UnaryOp.POW, this, p, 0); }
    public Tensor maximum(Tensor o) { return Elementwise.binary(BinaryOp.MAXIMUM, this, o); }
    public Tensor minimum(Tensor o) { return Elementwise.binary(BinaryOp.MINIMUM, this, o); }
    public Tensor neg() { return Elementwise.unary(UnaryOp.NEG, this, 0, 0); }
    public Tensor exp() { return Elementwise.unary(UnaryOp.EXP, this, 0, 0); }
    public Tensor log() { return Elementwise.unary(UnaryOp.LOG, this, 0, 0); }
    public Tensor sqrt() { return Elementwise.unary(UnaryOp.SQRT, this, 0, 0); }
    public Tensor rsqrt() { return Elementwise.unary(UnaryOp.RSQRT, this, 0, 0); }
    public Tensor abs() { return Elementwise.unary(UnaryOp.ABS, this, 0, 0); }
    public Tensor square() { return Elementwise.unary(UnaryOp.SQUARE, this, 0, 0); }
    public Tensor reciprocal() { return Elementwise.unary(UnaryOp.RECIPROCAL, this, 0, 0); }
    public Tensor sign() { return Elementwise.unary(UnaryOp.SIGN, this, 0, 0); }
    public Tensor clamp(double min, double max) { return Elementwise.unary(UnaryOp.CLAMP, this, min, max); }
    public Tensor clampMin(double min) { return clamp(min, Double.POSITIVE_INFINITY); }
    public Tensor tanh() { return Elementwise.unary(UnaryOp.TANH, this, 0, 0); }
    public Tensor sigmoid() { return Elementwise.unary(UnaryOp.SIGMOID, this, 0, 0); }
    public Tensor relu() { return Elementwise.unary(UnaryOp.RELU, this, 0, 0); }
    /** GELU, exact (erf) form. */
    public Tensor gelu() { return Elementwise.unary(UnaryOp.GELU, this, 0, 0); }
    /** GELU, tanh approximation (PyTorch approximate="tanh"). */
    public Tensor geluTanh() { return Elementwise.unary(UnaryOp.GELU_TANH, this, 0, 0); }
    public Tensor silu() { return Elementwise.unary(UnaryOp.SILU, this, 0, 0); }
    public Tensor logicalNot() { return Elementwise.unary(UnaryOp.NOT, this, 0, 0); }

    public Tensor eq(Tensor o) { return Elementwise.binary(BinaryOp.EQ, this, o); }
    public Tensor ne(Tensor o) { return Elementwise.binary(BinaryOp.NE, this, o); }
    public Tensor lt(Tensor o) { return Elementwise.binary(BinaryOp.LT, this, o); }
    public Tensor le(Tensor o) { return Elementwise.binary(BinaryOp.LE, this, o); }
    public Tensor gt(Tensor o) { return Elementwise.binary(BinaryOp.GT, this, o); }
    public Tensor ge(Tensor o) { return Elementwise.binary(BinaryOp.GE, this, o); }
    public Tensor eq(double v) { return eq(scalarLike(v)); }
    public Tensor ne(double v) { return ne(scalarLike(v)); }
    public Tensor lt(double v) { return lt(scalarLike(v)); }
    public Tensor le(double v) { return le(scalarLike(v)); }
    public Tensor gt(double v) { return gt(scalarLike(v)); }
    public Tensor ge(double v) { return ge(scalarLike(v)); }
    public Tensor logicalAnd(Tensor o) { return Elementwise.binary(BinaryOp.AND, this, o); }
    public Tensor logicalOr(Tensor o) { return Elementwise.binary(BinaryOp.OR, this, o); }

    private Tensor scalarLike(double v) {
        return full(v, dtype().isFloatingPoint() || v != Math.rint(v) ? DType.F64 : DType.I64, device());
    }

    // ---------------------------------------------------------------- reductions (Reductions.java)

    public Tensor sum() { return Reductions.sum(this, allDims(), false); }
    public Tensor sum(int dim, boolean keepdim) { return Reductions.sum(this, new int[] {dim}, keepdim); }
    public Tensor sum(int[] dims, boolean keepdim) { return Reductions.sum(this, dims, keepdim); }
    public Tensor mean() { return Reductions.mean(this, allDims(), false); }
    public Tensor mean(int dim, boolean keepdim) { return Reductions.mean(this, new int[] {dim}, keepdim); }
    public Tensor mean(int[] dims, boolean keepdim) { return Reductions.mean(this, dims, keepdim); }
    /** Variance with Bessel's correction (correction = 1), as torch.var. */
    public Tensor var(int[] dims, int correction, boolean keepdim) { return Reductions.var(this, dims, correction, keepdim); }
    public Tensor var(int dim, boolean keepdim) { return Reductions.var(this, new int[] {dim}, 1, keepdim); }
    public Tensor max() { return Reductions.extreme(this, ReduceOp.MAX, -1, false, true); }
    public Tensor max(int dim, boolean keepdim) { return Reductions.extreme(this, ReduceOp.MAX, dim, keepdim, false); }
    public Tensor min() { return Reductions.extreme(this, ReduceOp.MIN, -1, false, true); }
    public Tensor min(int dim, boolean keepdim) { return Reductions.extreme(this, ReduceOp.MIN, dim, keepdim, false); }
    public Tensor argmax(int dim, boolean keepdim) { return Reductions.arg(this, ReduceOp.ARGMAX, dim, keepdim); }
    public Tensor argmin(int dim, boolean keepdim) { return Reductions.arg(this, ReduceOp.ARGMIN, dim, keepdim); }

    int[] allDims() {
        int[] d = new int[shape.length];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return d;
    }

    // ---------------------------------------------------------------- linear algebra (Linalg.java) and nn ops (NnOps.java)

    public Tensor matmul(Tensor o) { return Linalg.matmul(this, o); }
    public static Tensor einsum(String equation, Tensor... operands) { return Linalg.einsum(equation, operands); }
    public Tensor softmax(int dim) { return NnOps.softmax(this, dim, false); }
    public Tensor logSoftmax(int dim) { return NnOps.softmax(this, dim, true); }

    // ---------------------------------------------------------------- in place (no autograd)

    private void checkInPlace(String op) {
        if (Grad.isEnabled() && (requiresGrad || gradFn != null)) {
            throw new IllegalStateException(op + ": in-place update of a tensor that requires grad; wrap it in Grad.disabled()");
        }
    }

    /** this += alpha * other (other broadcast to this shape). */
    public Tensor add_(Tensor other, double alpha) {
        checkInPlace("add_");
        storage.version++;
        Tensor src = alpha == 1 ? other : other.mul(alpha);
        backend().binary(BinaryOp.ADD, this, Views.broadcastTo("add_", src, shape), this.contiguousOrFail("add_"));
        return this;
    }

    public Tensor mul_(double v) {
        checkInPlace("mul_");
        storage.version++;
        backend().unary(UnaryOp.AFFINE, v, 0, contiguousOrFail("mul_"), this);
        return this;
    }

    public Tensor copy_(Tensor src) {
        checkInPlace("copy_");
        storage.version++;
        Tensor s = src.device().equals(device()) ? src : src.to(device());
        backend().copy(Views.broadcastTo("copy_", s, shape), this);
        return this;
    }

    /**
     * Overwrites this contiguous F64 tensor with host values: {@code copy_(Tensor.of(values))} without a temporary.
     * On a GPU the values are staged and the copy is queued in order with the device's work.
     */
    public Tensor copyFrom(double[] values) {
        if (dtype() != DType.F64 || !isContiguous() || values.length != numel()) {
            throw new IllegalArgumentException("copyFrom: needs a contiguous F64 tensor of " + values.length + " elements, got "
                    + dtype() + " " + Shape.str(shape));
        }
        Capture.checkHost("a host-to-device copy");
        storage.version++;
        backend().copyFromHost(MemorySegment.ofArray(values), this);
        return this;
    }

    public Tensor zero_() {
        return fill_(0);
    }

    public Tensor fill_(double v) {
        checkInPlace("fill_");
        storage.version++;
        if (isContiguous()) backend().fill(this, v);
        else backend().copy(full(v, dtype(), device()).expand(shape), this);
        return this;
    }

    private Tensor contiguousOrFail(String op) {
        if (!isContiguous()) throw new IllegalStateException(op + ": in-place ops need a contiguous tensor, got shape "
                + Shape.str(shape) + " strides " + Arrays.toString(strides));
        return this;
    }
}
