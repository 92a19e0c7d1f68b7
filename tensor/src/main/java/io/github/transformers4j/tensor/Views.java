package io.github.transformers4j.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Shape ops that share storage (view, permute, narrow, expand, ...), plus copies, casts and concatenation. */
final class Views {
    private Views() {}

    private static Tensor make(Tensor base, int[] shape, long[] strides, long offset) {
        return new Tensor(base.storage, shape, strides, offset);
    }

    // ------------------------------------------------------------ view / reshape

    static int[] inferShape(String op, Tensor x, int[] shape) {
        int[] out = shape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException(op + ": only one dimension can be -1, got " + Shape.str(shape));
                infer = i;
            } else if (out[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid dimension " + out[i] + " in " + Shape.str(shape));
            } else {
                known *= out[i];
            }
        }
        long n = x.numel();
        if (infer >= 0) {
            if (known == 0 || n % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Shape.str(shape) + " is invalid for input of shape "
                        + Shape.str(x.shape()) + " (" + n + " elements)");
            }
            out[infer] = (int) (n / known);
        } else if (known != n) {
            throw new IllegalArgumentException(op + ": shape " + Shape.str(shape) + " is invalid for input of shape "
                    + Shape.str(x.shape()) + " (" + n + " elements)");
        }
        return out;
    }

    /** Strides for viewing (shape, strides) as newShape without copying, or null (PyTorch's computeStride). */
    static long[] viewStrides(int[] shape, long[] strides, int[] newShape) {
        if (Shape.numel(shape) == 0 || shape.length == 0) return Shape.contiguousStrides(newShape);
        long[] ns = new long[newShape.length];
        int viewD = newShape.length - 1;
        long chunkBase = strides[strides.length - 1];
        long tensorNumel = 1, viewNumel = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase)) {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1)) {
                    ns[viewD] = viewNumel * chunkBase;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0) {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? ns : null;
    }

    static Tensor view(Tensor x, int[] shape) {
        int[] ns = inferShape("view", x, shape);
        long[] st = viewStrides(x.shape(), x.stride(), ns);
        if (st == null) {
            throw new IllegalArgumentException("view: shape " + Shape.str(shape) + " is not compatible with the strides of input "
                    + Shape.str(x.shape()) + " " + Arrays.toString(x.stride()) + "; use reshape()");
        }
        int[] orig = x.shape();
        return Autograd.record("view", make(x, ns, st, x.storageOffset()), g -> new Tensor[] {g.reshape(orig)}, x);
    }

    static Tensor reshape(Tensor x, int[] shape) {
        int[] ns = inferShape("reshape", x, shape);
        return viewStrides(x.shape(), x.stride(), ns) != null ? view(x, ns) : view(copy(x), ns);
    }

    static Tensor flatten(Tensor x, int start, int end) {
        if (x.dim() == 0) return reshape(x, new int[] {1});
        int s = Shape.wrapDim("flatten", start, x.dim()), e = Shape.wrapDim("flatten", end, x.dim());
        if (s > e) throw new IllegalArgumentException("flatten: start dim " + start + " after end dim " + end);
        int[] sh = x.shape();
        int[] ns = new int[sh.length - (e - s)];
        int k = 0;
        for (int i = 0; i < s; i++) ns[k++] = sh[i];
        long m = 1;
        for (int i = s; i <= e; i++) m *= sh[i];
        ns[k++] = (int) m;
        for (int i = e + 1; i < sh.length; i++) ns[k++] = sh[i];
        return reshape(x, ns);
    }

    static Tensor unflatten(Tensor x, int dim, int[] sizes) {
        int d = Shape.wrapDim("unflatten", dim, x.dim());
        int[] sh = x.shape();
        int[] ns = new int[sh.length - 1 + sizes.length];
        System.arraycopy(sh, 0, ns, 0, d);
        System.arraycopy(sizes, 0, ns, d, sizes.length);
        System.arraycopy(sh, d + 1, ns, d + sizes.length, sh.length - d - 1);
        long known = 1;
        int infer = -1;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] == -1) infer = d + i;
            else known *= sizes[i];
        }
        if (infer >= 0 && known > 0) ns[infer] = (int) (sh[d] / known);
        if (Shape.numel(java.util.Arrays.copyOfRange(ns, d, d + sizes.length)) != sh[d]) {
            throw new IllegalArgumentException("unflatten: sizes " + java.util.Arrays.toString(sizes) + " do not multiply to "
                    + sh[d] + " (dim " + d + " of " + Shape.str(sh) + ")");
        }
        return reshape(x, ns);
    }

    // ------------------------------------------------------------ permute / transpose / expand

    static Tensor permute(Tensor x, int[] dims) {
        int n = x.dim();
        if (dims.length != n) {
            throw new IllegalArgumentException("permute: " + dims.length + " dims " + Arrays.toString(dims) + " for a tensor of rank " + n);
        }
        int[] sh = x.shape();
        long[] st = x.stride();
        int[] ns = new int[n];
        long[] nst = new long[n];
        int[] inverse = new int[n];
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) {
            int d = Shape.wrapDim("permute", dims[i], n);
            if (seen[d]) throw new IllegalArgumentException("permute: repeated dim in " + Arrays.toString(dims));
            seen[d] = true;
            ns[i] = sh[d];
            nst[i] = st[d];
            inverse[d] = i;
        }
        return Autograd.record("permute", make(x, ns, nst, x.storageOffset()), g -> new Tensor[] {permute(g, inverse)}, x);
    }

    static Tensor transpose(Tensor x, int d0, int d1) {
        int n = x.dim();
        int a = Shape.wrapDim("transpose", d0, n), b = Shape.wrapDim("transpose", d1, n);
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        p[a] = b;
        p[b] = a;
        return permute(x, p);
    }

    /** Broadcast view with no autograd record (for passing operands to a backend). */
    static Tensor broadcastTo(String op, Tensor x, int[] shape) {
        int[] sh = x.shape();
        long[] st = x.stride();
        if (Arrays.equals(sh, shape)) return x;
        if (shape.length < sh.length) {
            throw new IllegalArgumentException(op + ": cannot expand shape " + Shape.str(sh) + " to " + Shape.str(shape));
        }
        long[] ns = new long[shape.length];
        int lead = shape.length - sh.length;
        for (int i = 0; i < shape.length; i++) {
            int src = i - lead;
            if (src < 0) {
                ns[i] = 0;
            } else if (sh[src] == shape[i]) {
                ns[i] = st[src];
            } else if (sh[src] == 1) {
                ns[i] = 0;
            } else {
                throw new IllegalArgumentException(op + ": cannot expand shape " + Shape.str(sh) + " to " + Shape.str(shape)
                        + " (dim " + i + ": " + sh[src] + " vs " + shape[i] + ")");
            }
        }
        return make(x, shape.clone(), ns, x.storageOffset());
    }

    static Tensor expand(Tensor x, int[] shape) {
        int[] target = shape.clone();
        int lead = target.length - x.dim();
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                if (i < lead) throw new IllegalArgumentException("expand: -1 not allowed for new leading dim " + i);
                target[i] = x.shape()[i - lead];
            }
        }
        int[] orig = x.shape();
        Tensor out = broadcastTo("expand", x, target);
        if (out == x) return x;
        return Autograd.record("expand", out, g -> new Tensor[] {Reductions.sumTo(g, orig)}, x);
    }

    // ------------------------------------------------------------ narrow / slice / select / squeeze

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        int d = Shape.wrapDim("narrow", dim, x.dim());
        int size = x.shape()[d];
        if (start < 0) start += size;
        if (start < 0 || length < 0 || start + length > size) {
            throw new IndexOutOfBoundsException("narrow: start " + start + " length " + length + " out of range for dim "
                    + d + " of size " + size + " in shape " + Shape.str(x.shape()));
        }
        return slice(x, d, start, start + length, 1);
    }

    static Tensor slice(Tensor x, int dim, int start, int end, int step) {
        int d = Shape.wrapDim("slice", dim, x.dim());
        int size = x.shape()[d];
        if (step <= 0) throw new IllegalArgumentException("slice: step must be positive, got " + step);
        if (start < 0) start += size;
        if (end < 0) end += size;
        start = Math.max(0, Math.min(start, size));
        end = Math.max(start, Math.min(end, size));
        int len = (end - start + step - 1) / step;
        int[] ns = x.shape();
        long[] st = x.stride();
        long offset = x.storageOffset() + start * st[d];
        ns[d] = len;
        st[d] *= step;
        int[] orig = x.shape();
        final int s0 = start, e0 = end;
        return Autograd.record("slice", make(x, ns, st, offset), g -> {
            Tensor z = Tensor.full(0, g.dtype(), g.device(), orig);
            z.backend().copy(g, slice(z, d, s0, e0, step));
            return new Tensor[] {z};
        }, x);
    }

    static Tensor select(Tensor x, int dim, int index) {
        int d = Shape.wrapDim("select", dim, x.dim());
        int size = x.shape()[d];
        if (index < -size || index >= size) {
            throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + d + " of size " + size
                    + " in shape " + Shape.str(x.shape()));
        }
        return squeeze(narrow(x, d, index < 0 ? index + size : index, 1), d);
    }

    static Tensor squeeze(Tensor x) {
        int[] sh = x.shape();
        int n = 0;
        for (int s : sh) if (s != 1) n++;
        int[] ns = new int[n];
        int k = 0;
        for (int s : sh) if (s != 1) ns[k++] = s;
        return view(x, ns);
    }

    static Tensor squeeze(Tensor x, int dim) {
        int d = Shape.wrapDim("squeeze", dim, x.dim());
        int[] sh = x.shape();
        if (sh.length == 0 || sh[d] != 1) return x;
        int[] ns = new int[sh.length - 1];
        for (int i = 0, k = 0; i < sh.length; i++) if (i != d) ns[k++] = sh[i];
        return view(x, ns);
    }

    static Tensor unsqueeze(Tensor x, int dim) {
        int d = Shape.wrapDim("unsqueeze", dim, x.dim() + 1);
        int[] sh = x.shape();
        int[] ns = new int[sh.length + 1];
        for (int i = 0, k = 0; i < ns.length; i++) ns[i] = i == d ? 1 : sh[k++];
        return view(x, ns);
    }

    static List<Tensor> split(Tensor x, int splitSize, int dim) {
        int d = Shape.wrapDim("split", dim, x.dim());
        if (splitSize <= 0) throw new IllegalArgumentException("split: size must be positive, got " + splitSize);
        List<Tensor> out = new ArrayList<>();
        int size = x.shape()[d];
        for (int s = 0; s < size; s += splitSize) out.add(narrow(x, d, s, Math.min(splitSize, size - s)));
        return out;
    }

    static List<Tensor> splitWithSizes(Tensor x, int[] sizes, int dim) {
        int d = Shape.wrapDim("split", dim, x.dim());
        int total = Arrays.stream(sizes).sum();
        if (total != x.shape()[d]) {
            throw new IllegalArgumentException("split: sizes " + Arrays.toString(sizes) + " sum to " + total
                    + " but dim " + d + " of " + Shape.str(x.shape()) + " has " + x.shape()[d]);
        }
        List<Tensor> out = new ArrayList<>();
        int s = 0;
        for (int len : sizes) {
            out.add(narrow(x, d, s, len));
            s += len;
        }
        return out;
    }

    static List<Tensor> chunk(Tensor x, int chunks, int dim) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: chunks must be positive, got " + chunks);
        int d = Shape.wrapDim("chunk", dim, x.dim());
        int size = x.shape()[d];
        return split(x, Math.max(1, (size + chunks - 1) / chunks), d);
    }

    // ------------------------------------------------------------ cat / stack

    static Tensor cat(List<Tensor> ts, int dim) {
        if (ts.isEmpty()) throw new IllegalArgumentException("cat: expected a non-empty list of tensors");
        Tensor first = ts.get(0);
        int d = Shape.wrapDim("cat", dim, first.dim());
        int[] ref = first.shape();
        int total = 0;
        DType dtype = first.dtype();
        for (int i = 0; i < ts.size(); i++) {
            Tensor t = ts.get(i);
            int[] sh = t.shape();
            if (sh.length != ref.length) {
                throw new IllegalArgumentException("cat: tensor " + i + " has shape " + Shape.str(sh) + ", expected rank " + ref.length
                        + " like tensor 0 " + Shape.str(ref));
            }
            for (int k = 0; k < sh.length; k++) {
                if (k != d && sh[k] != ref[k]) {
                    throw new IllegalArgumentException("cat: sizes must match except in dim " + d + ": tensor 0 " + Shape.str(ref)
                            + " vs tensor " + i + " " + Shape.str(sh));
                }
            }
            if (!t.device().equals(first.device())) {
                throw new IllegalArgumentException("cat: tensors on different devices: " + first.device() + " and " + t.device());
            }
            dtype = DType.promote(dtype, t.dtype());
            total += sh[d];
        }
        int[] outShape = ref.clone();
        outShape[d] = total;
        Tensor out = Tensor.empty(dtype, first.device(), outShape);
        int[] sizes = new int[ts.size()];
        int off = 0;
        for (int i = 0; i < ts.size(); i++) {
            Tensor t = ts.get(i);
            sizes[i] = t.shape()[d];
            out.backend().copy(t, rawNarrow(out, d, off, sizes[i]));
            off += sizes[i];
        }
        Tensor[] inputs = ts.toArray(new Tensor[0]);
        return Autograd.record("cat", out, g -> {
            Tensor[] gs = new Tensor[inputs.length];
            int o = 0;
            for (int i = 0; i < inputs.length; i++) {
                gs[i] = inputs[i].requiresGrad ? rawNarrow(g, d, o, sizes[i]) : null;
                o += sizes[i];
            }
            return gs;
        }, inputs);
    }

    /** A narrow view with no autograd record. */
    static Tensor rawNarrow(Tensor x, int d, int start, int length) {
        int[] ns = x.shape();
        long[] st = x.stride();
        ns[d] = length;
        return make(x, ns, st, x.storageOffset() + start * st[d]);
    }

    static Tensor stack(List<Tensor> ts, int dim) {
        if (ts.isEmpty()) throw new IllegalArgumentException("stack: expected a non-empty list of tensors");
        int d = Shape.wrapDim("stack", dim, ts.get(0).dim() + 1);
        List<Tensor> u = new ArrayList<>(ts.size());
        for (int i = 0; i < ts.size(); i++) {
            if (!Arrays.equals(ts.get(i).shape(), ts.get(0).shape())) {
                throw new IllegalArgumentException("stack: all tensors must have the same shape: tensor 0 "
                        + Shape.str(ts.get(0).shape()) + " vs tensor " + i + " " + Shape.str(ts.get(i).shape()));
            }
            u.add(unsqueeze(ts.get(i), d));
        }
        return cat(u, d);
    }

    // ------------------------------------------------------------ copies

    static Tensor copy(Tensor x) {
        Tensor out = Tensor.emptyLike(x);
        x.backend().copy(x, out);
        return Autograd.record("clone", out, g -> new Tensor[] {g}, x);
    }

    static Tensor convert(Tensor x, DType dtype) {
        Tensor out = Tensor.empty(dtype, x.device(), x.shape());
        x.backend().copy(x, out);
        if (!dtype.isFloatingPoint()) return out;
        DType from = x.dtype();
        return Autograd.record("to", out, g -> new Tensor[] {g.to(from)}, x);
    }

    static Tensor transfer(Tensor x, Device device) {
        Tensor src = x.contiguous();
        Tensor out = Tensor.empty(x.dtype(), device, x.shape());
        long bytes = src.numel() * x.dtype().byteSize();
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var host = arena.allocate(Math.max(bytes, 1), 64);
            Capture.checkHost("a device-to-host copy");
            src.backend().copyToHost(src, host);
            Capture.checkHost("a host-to-device copy");
            out.backend().copyFromHost(host, out);
        }
        Device from = x.device();
        return Autograd.record("to_device", out, g -> new Tensor[] {g.to(from)}, x);
    }

    /** A contiguous tensor viewed with another shape, no autograd record. */
    static Tensor rawView(Tensor x, int... shape) {
        if (!x.isContiguous() || Shape.numel(shape) != x.numel()) {
            throw new IllegalStateException("rawView: " + Shape.str(x.shape()) + " -> " + Shape.str(shape));
        }
        return make(x, shape, Shape.contiguousStrides(shape), x.storageOffset());
    }
}
