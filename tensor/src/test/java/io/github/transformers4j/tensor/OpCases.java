package io.github.transformers4j.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;

/**
 * The table of differentiable ops: for each, inputs, the op, and a naive reference written independently with
 * plain loops over doubles ({@link Nd}). {@link OpTest} runs forward checks (F64 and F32) and F64 gradient checks
 * on every row; {@link OpTest#everyDifferentiableOpHasACase} fails if an op of the public API has no row.
 */
final class OpCases {
    record Case(String name, Function<Random4j, Tensor[]> inputs, Function<Tensor[], Tensor> op, Function<Nd[], Nd> ref) {
        @Override
        public String toString() {
            return name;
        }
    }

    private OpCases() {}

    static Tensor rnd(Random4j r, int... shape) {
        return Tensor.randn(r, shape).to(DType.F64).requiresGrad(true);
    }

    /** Values in [lo, hi): for ops with a restricted domain. */
    static Tensor uni(Random4j r, double lo, double hi, int... shape) {
        return Tensor.rand(r, shape).to(DType.F64).mul(hi - lo).add(lo).detach().requiresGrad(true);
    }

    static Case unary(String name, Function<Tensor, Tensor> op, DoubleUnaryOperator f, double lo, double hi) {
        return new Case(name, r -> new Tensor[] {Double.isNaN(lo) ? rnd(r, 3, 5) : uni(r, lo, hi, 3, 5)},
                x -> op.apply(x[0]), x -> x[0].map(f));
    }

    static Case unary(String name, Function<Tensor, Tensor> op, DoubleUnaryOperator f) {
        return unary(name, op, f, Double.NaN, Double.NaN);
    }

    static Case binary(String name, Function<Tensor[], Tensor> op, DoubleBinaryOperator f, int[] sa, int[] sb, double lo) {
        return new Case(name, r -> new Tensor[] {Double.isNaN(lo) ? rnd(r, sa) : uni(r, lo, 2, sa), Double.isNaN(lo) ? rnd(r, sb) : uni(r, lo, 2, sb)},
                op, x -> Nd.zip(x[0], x[1], f));
    }

    /** erf by Simpson's rule on 2/sqrt(pi) e^(-t^2): independent of the library's series. */
    static double erfRef(double x) {
        int n = 4000;
        double h = x / n, s = 1 + Math.exp(-x * x);
        for (int i = 1; i < n; i++) s += (i % 2 == 1 ? 4 : 2) * Math.exp(-(i * h) * (i * h));
        return 2 / Math.sqrt(Math.PI) * s * h / 3;
    }

    static Nd matmulRef(Nd a, Nd b) {
        // a [..., m, k] @ b [..., k, n] with broadcast batch dims
        int ra = a.rank(), rb = b.rank();
        int m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
        int[] batch = Shape.broadcast("ref", java.util.Arrays.copyOf(a.shape(), ra - 2), java.util.Arrays.copyOf(b.shape(), rb - 2));
        int[] os = java.util.Arrays.copyOf(batch, batch.length + 2);
        os[batch.length] = m;
        os[batch.length + 1] = n;
        Nd out = Nd.zeros(os);
        for (int f = 0; f < out.data().length; f++) {
            int[] idx = Nd.unravel(f, os);
            double s = 0;
            for (int p = 0; p < k; p++) {
                int[] ia = idx.clone(), ib = idx.clone();
                ia[os.length - 1] = p;
                ib[os.length - 2] = p;
                s += a.getBroadcast(ia) * b.getBroadcast(ib);
            }
            out.data()[f] = s;
        }
        return out;
    }

    static Nd softmaxRef(Nd x, boolean log) {
        int d = x.shape()[x.rank() - 1], rows = x.data().length / d;
        double[] o = new double[x.data().length];
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < d; j++) max = Math.max(max, x.data()[r * d + j]);
            for (int j = 0; j < d; j++) sum += Math.exp(x.data()[r * d + j] - max);
            for (int j = 0; j < d; j++) {
                double lp = x.data()[r * d + j] - max - Math.log(sum);
                o[r * d + j] = log ? lp : Math.exp(lp);
            }
        }
        return new Nd(x.shape(), o);
    }

    /**
     * Attention by loops: out[b, h, i, :] = sum_j softmax_j(scale q_i . k_j, j allowed) v_j with q, k, v read through
     * accessors (so that packed and 4-D layouts share it); causal allows j <= i only.
     */
    interface At {
        double get(int b, int h, int i, int e);
    }

    static double[][][][] attnRef(At q, At k, At v, int b, int h, int lq, int lk, int e, int ev, double scale, boolean causal) {
        double[][][][] out = new double[b][h][lq][ev];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < lq; i++) {
            double[] s = new double[lk];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < lk; j++) {
                if (causal && j > i) continue;
                double dot = 0;
                for (int x = 0; x < e; x++) dot += q.get(bi, hi, i, x) * k.get(bi, hi, j, x);
                s[j] = dot * scale;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < lk; j++) if (!(causal && j > i)) sum += Math.exp(s[j] - max);
            for (int j = 0; j < lk; j++) {
                if (causal && j > i) continue;
                double w = Math.exp(s[j] - max) / sum;
                for (int x = 0; x < ev; x++) out[bi][hi][i][x] += w * v.get(bi, hi, j, x);
            }
        }
        return out;
    }

    /** BOOL (3, 3), true above the diagonal (key after query), on {@code device}. */
    static Tensor causal3(Device device) {
        return Tensor.ofBooleans(new boolean[] {false, true, true, false, false, true, false, false, false}, 3, 3).to(device);
    }

    static List<Case> all() {
        List<Case> c = new ArrayList<>();
        int[] s35 = {3, 5}, s5 = {5}, s15 = {1, 5}, s31 = {3, 1};
        // ---- elementwise binary, with broadcasting
        c.add(binary("add", x -> x[0].add(x[1]), Double::sum, s35, s5, Double.NaN));
        c.add(binary("add (broadcast both)", x -> x[0].add(x[1]), Double::sum, s31, s15, Double.NaN));
        c.add(binary("sub", x -> x[0].sub(x[1]), (a, b) -> a - b, s35, s15, Double.NaN));
        c.add(binary("mul", x -> x[0].mul(x[1]), (a, b) -> a * b, s35, s31, Double.NaN));
        c.add(binary("div", x -> x[0].div(x[1]), (a, b) -> a / b, s35, s5, 0.5));
        c.add(binary("pow", x -> x[0].pow(x[1]), Math::pow, s35, s35, 0.5));
        c.add(binary("maximum", x -> x[0].maximum(x[1]), Math::max, s35, s35, Double.NaN));
        c.add(binary("minimum", x -> x[0].minimum(x[1]), Math::min, s35, s5, Double.NaN));
        // ---- with scalars
        c.add(unary("add (scalar)", x -> x.add(1.5), v -> v + 1.5));
        c.add(unary("sub (scalar)", x -> x.sub(0.25), v -> v - 0.25));
        c.add(unary("mul (scalar)", x -> x.mul(-3), v -> v * -3));
        c.add(unary("div (scalar)", x -> x.div(4), v -> v / 4));
        c.add(unary("pow (scalar)", x -> x.pow(2.5), v -> Math.pow(v, 2.5), 0.2, 2));
        // ---- elementwise unary
        c.add(unary("neg", Tensor::neg, v -> -v));
        c.add(unary("exp", Tensor::exp, Math::exp));
        c.add(unary("log", Tensor::log, Math::log, 0.1, 3));
        c.add(unary("sqrt", Tensor::sqrt, Math::sqrt, 0.1, 3));
        c.add(unary("rsqrt", Tensor::rsqrt, v -> 1 / Math.sqrt(v), 0.1, 3));
        c.add(unary("abs", Tensor::abs, Math::abs));
        c.add(unary("square", Tensor::square, v -> v * v));
        c.add(unary("reciprocal", Tensor::reciprocal, v -> 1 / v, 0.3, 3));
        c.add(unary("clamp", x -> x.clamp(-0.5, 0.7), v -> Math.min(Math.max(v, -0.5), 0.7)));
        c.add(unary("clampMin", x -> x.clampMin(0.1), v -> Math.max(v, 0.1)));
        c.add(unary("tanh", Tensor::tanh, Math::tanh));
        c.add(unary("sigmoid", Tensor::sigmoid, v -> 1 / (1 + Math.exp(-v))));
        c.add(unary("relu", Tensor::relu, v -> Math.max(v, 0)));
        c.add(unary("gelu", Tensor::gelu, v -> 0.5 * v * (1 + erfRef(v / Math.sqrt(2)))));
        c.add(unary("geluTanh", Tensor::geluTanh, v -> 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)))));
        c.add(unary("silu", Tensor::silu, v -> v / (1 + Math.exp(-v))));
        // ---- reductions
        c.add(new Case("sum (all)", r -> new Tensor[] {rnd(r, 3, 4, 2)}, x -> x[0].sum(),
                x -> new Nd(new int[0], new double[] {java.util.Arrays.stream(x[0].data()).sum()})));
        c.add(new Case("sum (dim 1, keepdim)", r -> new Tensor[] {rnd(r, 3, 4, 2)}, x -> x[0].sum(1, true), x -> x[0].reduce(1, true, 0, Double::sum)));
        c.add(new Case("sum (dims 0,2)", r -> new Tensor[] {rnd(r, 3, 4, 2)}, x -> x[0].sum(new int[] {0, 2}, false),
                x -> x[0].reduce(0, true, 0, Double::sum).reduce(2, false, 0, Double::sum).reshape(4)));
        c.add(new Case("mean (dim -1)", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].mean(-1, false),
                x -> x[0].reduce(1, false, 0, Double::sum).map(v -> v / 4)));
        c.add(new Case("mean (all)", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].mean(),
                x -> new Nd(new int[0], new double[] {java.util.Arrays.stream(x[0].data()).sum() / 12})));
        c.add(new Case("var (dim 0, unbiased)", r -> new Tensor[] {rnd(r, 5, 3)}, x -> x[0].var(0, false), x -> {
            Nd mean = x[0].reduce(0, true, 0, Double::sum).map(v -> v / 5);
            return Nd.zip(x[0], mean, (a, m) -> (a - m) * (a - m)).reduce(0, false, 0, Double::sum).map(v -> v / 4);
        }));
        c.add(new Case("max (dim 1)", r -> new Tensor[] {rnd(r, 3, 6)}, x -> x[0].max(1, false),
                x -> x[0].reduce(1, false, Double.NEGATIVE_INFINITY, Math::max)));
        c.add(new Case("min (dim 0, keepdim)", r -> new Tensor[] {rnd(r, 3, 6)}, x -> x[0].min(0, true),
                x -> x[0].reduce(0, true, Double.POSITIVE_INFINITY, Math::min)));
        c.add(new Case("max (all)", r -> new Tensor[] {rnd(r, 3, 6)}, x -> x[0].max(),
                x -> new Nd(new int[0], new double[] {java.util.Arrays.stream(x[0].data()).max().orElseThrow()})));
        c.add(new Case("min (all)", r -> new Tensor[] {rnd(r, 3, 6)}, x -> x[0].min(),
                x -> new Nd(new int[0], new double[] {java.util.Arrays.stream(x[0].data()).min().orElseThrow()})));
        // ---- matmul
        c.add(new Case("matmul (2-D)", r -> new Tensor[] {rnd(r, 4, 3), rnd(r, 3, 5)}, x -> x[0].matmul(x[1]), x -> matmulRef(x[0], x[1])));
        c.add(new Case("matmul (batched, broadcast batch)", r -> new Tensor[] {rnd(r, 2, 1, 4, 3), rnd(r, 3, 3, 2)},
                x -> x[0].matmul(x[1]), x -> matmulRef(x[0], x[1])));
        c.add(new Case("matmul (transposed operands)", r -> new Tensor[] {rnd(r, 3, 4), rnd(r, 5, 3)},
                x -> x[0].t().matmul(x[1].t()), x -> matmulRef(x[0].permute(1, 0), x[1].permute(1, 0))));
        // a [1, 3] row whose elements are 4 apart (a column of a [3, 4] matrix, transposed): no unit stride on its inner dim
        c.add(new Case("matmul (strided single row @ matrix)", r -> new Tensor[] {rnd(r, 3, 4), rnd(r, 3, 5)},
                x -> x[0].narrow(1, 2, 1).mT().matmul(x[1]), x -> matmulRef(sliceRef(x[0], 1, 2, 3, 1).permute(1, 0), x[1])));
        c.add(new Case("matmul (matrix @ vector)", r -> new Tensor[] {rnd(r, 4, 3), rnd(r, 3)}, x -> x[0].matmul(x[1]),
                x -> matmulRef(x[0], x[1].reshape(3, 1)).reshape(4)));
        c.add(new Case("einsum (attention scores bhqd,bhkd->bhqk)", r -> new Tensor[] {rnd(r, 2, 2, 3, 4), rnd(r, 2, 2, 5, 4)},
                x -> Tensor.einsum("bhqd,bhkd->bhqk", x[0], x[1]), x -> matmulRef(x[0], x[1].permute(0, 1, 3, 2))));
        c.add(new Case("einsum (packed projection bld,tdhe->tbhle)", r -> new Tensor[] {rnd(r, 2, 3, 4), rnd(r, 3, 4, 2, 2)},
                x -> Tensor.einsum("bld,tdhe->tbhle", x[0], x[1]), x -> {
                    Nd a = x[0], w = x[1];
                    Nd out = Nd.zeros(3, 2, 2, 3, 2);
                    for (int t = 0; t < 3; t++) for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int l = 0; l < 3; l++) for (int e = 0; e < 2; e++) {
                        double s = 0;
                        for (int d = 0; d < 4; d++) s += a.get(b, l, d) * w.get(t, d, h, e);
                        out.set(s, t, b, h, l, e);
                    }
                    return out;
                }));
        c.add(new Case("einsum (weights @ values bhqk,bhkd->bqhd)", r -> new Tensor[] {rnd(r, 2, 2, 3, 4), rnd(r, 2, 2, 4, 5)},
                x -> Tensor.einsum("bhqk,bhkd->bqhd", x[0], x[1]), x -> matmulRef(x[0], x[1]).permute(0, 2, 1, 3)));
        // ---- softmax family and fused nn ops
        c.add(new Case("softmax (last dim)", r -> new Tensor[] {rnd(r, 3, 7)}, x -> x[0].softmax(-1), x -> softmaxRef(x[0], false)));
        c.add(new Case("softmax (dim 0)", r -> new Tensor[] {rnd(r, 4, 3)}, x -> x[0].softmax(0),
                x -> softmaxRef(x[0].permute(1, 0), false).permute(1, 0)));
        c.add(new Case("logSoftmax", r -> new Tensor[] {rnd(r, 3, 7)}, x -> x[0].logSoftmax(-1), x -> softmaxRef(x[0], true)));
        // rows longer than a vector, with and without a partial last vector (attention's 50 and 65 keys; 32 fills two)
        c.add(new Case("softmax (rows of 50)", r -> new Tensor[] {rnd(r, 3, 50)}, x -> x[0].softmax(-1), x -> softmaxRef(x[0], false)));
        c.add(new Case("softmax (rows of 32)", r -> new Tensor[] {rnd(r, 2, 32)}, x -> x[0].softmax(-1), x -> softmaxRef(x[0], false)));
        c.add(new Case("logSoftmax (rows of 65)", r -> new Tensor[] {rnd(r, 2, 65)}, x -> x[0].logSoftmax(-1), x -> softmaxRef(x[0], true)));
        c.add(new Case("layerNorm", r -> new Tensor[] {rnd(r, 4, 6), rnd(r, 6), rnd(r, 6)},
                x -> NnOps.layerNorm(x[0], 1, x[1], x[2], 1e-5), x -> {
                    Nd in = x[0];
                    Nd out = Nd.zeros(4, 6);
                    for (int i = 0; i < 4; i++) {
                        double m = 0, v = 0;
                        for (int j = 0; j < 6; j++) m += in.get(i, j) / 6;
                        for (int j = 0; j < 6; j++) v += (in.get(i, j) - m) * (in.get(i, j) - m) / 6;
                        for (int j = 0; j < 6; j++) out.set((in.get(i, j) - m) / Math.sqrt(v + 1e-5) * x[1].get(j) + x[2].get(j), i, j);
                    }
                    return out;
                }));
        c.add(new Case("embedding", r -> new Tensor[] {rnd(r, 5, 3), Tensor.ofLongs(new long[] {0, 1, 4, 1, 2, 4}, 2, 3)},
                x -> NnOps.embedding(x[0], x[1], -1), x -> {
                    Nd out = Nd.zeros(2, 3, 3);
                    for (int i = 0; i < 6; i++) for (int j = 0; j < 3; j++) out.data()[i * 3 + j] = x[0].get((int) x[1].data()[i], j);
                    return out;
                }));
        c.add(new Case("crossEntropy (ignore 2, smoothing 0.1)", r -> new Tensor[] {rnd(r, 4, 5), Tensor.ofLongs(new long[] {3, 2, 0, 4}, 4)},
                x -> NnOps.crossEntropy(x[0], x[1], 2, 0.1), x -> {
                    // per row: (1 - eps)(lse - x_t) + eps (lse - mean x), 0 where the target is the ignored class
                    Nd out = Nd.zeros(4);
                    for (int i = 0; i < 4; i++) {
                        int t = (int) x[1].data()[i];
                        if (t == 2) continue;
                        double m = Double.NEGATIVE_INFINITY, s = 0, mean = 0;
                        for (int j = 0; j < 5; j++) m = Math.max(m, x[0].get(i, j));
                        for (int j = 0; j < 5; j++) {
                            s += Math.exp(x[0].get(i, j) - m);
                            mean += x[0].get(i, j) / 5;
                        }
                        double lse = m + Math.log(s);
                        out.data()[i] = 0.9 * (lse - x[0].get(i, t)) + 0.1 * (lse - mean);
                    }
                    return out;
                }));
        c.add(new Case("dropout (p 0.3, training)", r -> new Tensor[] {rnd(r, 4, 8)},
                x -> NnOps.dropout(x[0], 0.3, true, new Random4j(99)), x -> {
                    // the mask is the generator's uniform draw >= p, scaled by 1/(1-p)
                    Nd out = Nd.zeros(4, 8);
                    for (int i = 0; i < 32; i++) {
                        double u = Random4j.uniformFloat(Random4j.bits(99, 0, i));
                        out.data()[i] = u >= 0.3 ? x[0].data()[i] / 0.7 : 0;
                    }
                    return out;
                }));
        c.add(new Case("linear", r -> new Tensor[] {rnd(r, 2, 3, 4), rnd(r, 5, 4), rnd(r, 5)},
                x -> NnOps.linear(x[0], x[1], x[2]), x -> {
                    Nd y = matmulRef(x[0], x[1].permute(1, 0));
                    return Nd.zip(y, x[2], Double::sum);
                }));
        c.add(new Case("linearRelu", r -> new Tensor[] {rnd(r, 2, 3, 4), rnd(r, 5, 4), rnd(r, 5)},
                x -> NnOps.linearRelu(x[0], x[1], x[2]), x -> {
                    Nd y = Nd.zip(matmulRef(x[0], x[1].permute(1, 0)), x[2], Double::sum);
                    for (int i = 0; i < y.data().length; i++) y.data()[i] = Math.max(y.data()[i], 0);
                    return y;
                }));
        c.add(new Case("multiHeadAttention (packed q|k|v, 2 heads, causal)", r -> new Tensor[] {rnd(r, 2, 3, 12)},
                x -> NnOps.multiHeadAttention(x[0], null, 2, causal3(x[0].device()), null, 0.7, 0, null), x -> {
                    Nd p = x[0]; // (B, L, 3 * H * E), H = E = 2
                    double[][][][] o = attnRef((b, h, i, e) -> p.get(b, i, h * 2 + e), (b, h, j, e) -> p.get(b, j, 4 + h * 2 + e),
                            (b, h, j, e) -> p.get(b, j, 8 + h * 2 + e), 2, 2, 3, 3, 2, 2, 0.7, true);
                    Nd out = Nd.zeros(2, 3, 4);
                    for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int i = 0; i < 3; i++) for (int e = 0; e < 2; e++)
                        out.set(o[b][h][i][e], b, i, h * 2 + e);
                    return out;
                }));
        c.add(new Case("multiHeadAttention (q and packed k|v)", r -> new Tensor[] {rnd(r, 2, 2, 4), rnd(r, 2, 3, 8)},
                x -> NnOps.multiHeadAttention(x[0], x[1], 2, null, null, 0.9, 0, null), x -> {
                    Nd q = x[0], kv = x[1];
                    double[][][][] o = attnRef((b, h, i, e) -> q.get(b, i, h * 2 + e), (b, h, j, e) -> kv.get(b, j, h * 2 + e),
                            (b, h, j, e) -> kv.get(b, j, 4 + h * 2 + e), 2, 2, 2, 3, 2, 2, 0.9, false);
                    Nd out = Nd.zeros(2, 2, 4);
                    for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int i = 0; i < 2; i++) for (int e = 0; e < 2; e++)
                        out.set(o[b][h][i][e], b, i, h * 2 + e);
                    return out;
                }));
        c.add(new Case("scaledDotProductAttention (fused, 4-D)", r -> new Tensor[] {rnd(r, 2, 2, 3, 2), rnd(r, 2, 2, 4, 2), rnd(r, 2, 2, 4, 3)},
                x -> NnOps.scaledDotProductAttention(x[0], x[1], x[2], null, null, 0.6, 0, null), x -> {
                    double[][][][] o = attnRef((b, h, i, e) -> x[0].get(b, h, i, e), (b, h, j, e) -> x[1].get(b, h, j, e),
                            (b, h, j, e) -> x[2].get(b, h, j, e), 2, 2, 3, 4, 2, 3, 0.6, false);
                    Nd out = Nd.zeros(2, 2, 3, 3);
                    for (int b = 0; b < 2; b++) for (int h = 0; h < 2; h++) for (int i = 0; i < 3; i++) for (int e = 0; e < 3; e++)
                        out.set(o[b][h][i][e], b, h, i, e);
                    return out;
                }));
        c.add(new Case("conv2d (patch, stride = kernel)", r -> new Tensor[] {rnd(r, 2, 2, 4, 4), rnd(r, 3, 2, 2, 2), rnd(r, 3)},
                x -> NnOps.conv2d(x[0], x[1], x[2], 2, 0), x -> convRef(x[0], x[1], x[2], 2, 0)));
        c.add(new Case("conv2d (3x3, stride 2, padding 1)", r -> new Tensor[] {rnd(r, 1, 2, 5, 5), rnd(r, 2, 2, 3, 3), rnd(r, 2)},
                x -> NnOps.conv2d(x[0], x[1], x[2], 2, 1), x -> convRef(x[0], x[1], x[2], 2, 1)));
        int[] s21 = {2, 1}, p12 = {1, 2}, d21 = {2, 1}, one = {1, 1};
        c.add(new Case("conv2d (2x3 kernel, stride (2, 1), padding (1, 2), dilation (2, 1))",
                r -> new Tensor[] {rnd(r, 2, 2, 6, 5), rnd(r, 3, 2, 2, 3), rnd(r, 3)},
                x -> NnOps.conv2d(x[0], x[1], x[2], s21, p12, d21, 1), x -> convRef(x[0], x[1], x[2], s21, p12, d21, 1)));
        c.add(new Case("conv2d (groups 2, 3x3, padding 1)", r -> new Tensor[] {rnd(r, 2, 4, 4, 4), rnd(r, 6, 2, 3, 3), rnd(r, 6)},
                x -> NnOps.conv2d(x[0], x[1], x[2], one, one, one, 2), x -> convRef(x[0], x[1], x[2], one, one, one, 2)));
        c.add(new Case("conv2d (depthwise: groups = channels, dilation 2)", r -> new Tensor[] {rnd(r, 1, 3, 6, 6), rnd(r, 3, 1, 3, 3), rnd(r, 3)},
                x -> NnOps.conv2d(x[0], x[1], x[2], one, new int[] {2, 2}, new int[] {2, 2}, 3),
                x -> convRef(x[0], x[1], x[2], one, new int[] {2, 2}, new int[] {2, 2}, 3)));
        c.add(new Case("im2col (3x3, stride 1, padding 1)", r -> new Tensor[] {rnd(r, 1, 2, 3, 3)},
                x -> NnOps.im2col(x[0], 3, 3, 1, 1, 1, 1, 1, 1), x -> {
                    Nd out = Nd.zeros(1, 18, 9);
                    for (int ch = 0; ch < 2; ch++) for (int ki = 0; ki < 3; ki++) for (int kj = 0; kj < 3; kj++)
                        for (int oy = 0; oy < 3; oy++) for (int ox = 0; ox < 3; ox++) {
                            int iy = oy - 1 + ki, ix = ox - 1 + kj;
                            double v = iy >= 0 && iy < 3 && ix >= 0 && ix < 3 ? x[0].get(0, ch, iy, ix) : 0;
                            out.set(v, 0, ch * 9 + ki * 3 + kj, oy * 3 + ox);
                        }
                    return out;
                }));
        // ---- views and joins
        c.add(new Case("view", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].view(2, 6).mul(x[0].view(2, 6)), x -> x[0].map(v -> v * v).reshape(2, 6)));
        c.add(new Case("reshape (of a transposed tensor)", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].t().reshape(-1), x -> x[0].permute(1, 0).reshape(12)));
        c.add(new Case("permute", r -> new Tensor[] {rnd(r, 2, 3, 4)}, x -> x[0].permute(2, 0, 1).contiguous(), x -> x[0].permute(2, 0, 1)));
        c.add(new Case("transpose", r -> new Tensor[] {rnd(r, 2, 3, 4)}, x -> x[0].transpose(0, 2), x -> x[0].permute(2, 1, 0)));
        c.add(new Case("t", r -> new Tensor[] {rnd(r, 2, 3)}, x -> x[0].t(), x -> x[0].permute(1, 0)));
        c.add(new Case("mT", r -> new Tensor[] {rnd(r, 2, 2, 3)}, x -> x[0].mT(), x -> x[0].permute(0, 2, 1)));
        c.add(new Case("expand", r -> new Tensor[] {rnd(r, 3, 1)}, x -> x[0].expand(2, 3, 4), x -> Nd.zip(x[0], Nd.zeros(2, 3, 4), Double::sum)));
        c.add(new Case("expandAs", r -> new Tensor[] {rnd(r, 1, 4)}, x -> x[0].expandAs(Tensor.zeros(3, 4)), x -> Nd.zip(x[0], Nd.zeros(3, 4), Double::sum)));
        c.add(new Case("narrow", r -> new Tensor[] {rnd(r, 3, 5)}, x -> x[0].narrow(1, 1, 3), x -> sliceRef(x[0], 1, 1, 4, 1)));
        c.add(new Case("slice (step 2)", r -> new Tensor[] {rnd(r, 3, 7)}, x -> x[0].slice(1, 1, 7, 2), x -> sliceRef(x[0], 1, 1, 7, 2)));
        c.add(new Case("select", r -> new Tensor[] {rnd(r, 3, 5)}, x -> x[0].select(0, 2), x -> sliceRef(x[0], 0, 2, 3, 1).reshape(5)));
        c.add(new Case("squeeze", r -> new Tensor[] {rnd(r, 3, 1, 5)}, x -> x[0].squeeze(), x -> x[0].reshape(3, 5)));
        c.add(new Case("squeeze (dim)", r -> new Tensor[] {rnd(r, 3, 1, 5)}, x -> x[0].squeeze(1), x -> x[0].reshape(3, 5)));
        c.add(new Case("unsqueeze", r -> new Tensor[] {rnd(r, 3, 5)}, x -> x[0].unsqueeze(-1), x -> x[0].reshape(3, 5, 1)));
        c.add(new Case("flatten", r -> new Tensor[] {rnd(r, 2, 3, 4)}, x -> x[0].flatten(1, 2), x -> x[0].reshape(2, 12)));
        c.add(new Case("flatten (all)", r -> new Tensor[] {rnd(r, 2, 3)}, x -> x[0].flatten(), x -> x[0].reshape(6)));
        c.add(new Case("unflatten", r -> new Tensor[] {rnd(r, 2, 12)}, x -> x[0].unflatten(1, 3, -1), x -> x[0].reshape(2, 3, 4)));
        c.add(new Case("contiguous", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].t().contiguous(), x -> x[0].permute(1, 0)));
        c.add(new Case("clone", r -> new Tensor[] {rnd(r, 3, 4)}, x -> x[0].clone(), x -> x[0]));
        c.add(new Case("cat", r -> new Tensor[] {rnd(r, 2, 3), rnd(r, 2, 2)}, x -> Tensor.cat(List.of(x[0], x[1]), 1), x -> {
            Nd out = Nd.zeros(2, 5);
            for (int i = 0; i < 2; i++) for (int j = 0; j < 5; j++) out.set(j < 3 ? x[0].get(i, j) : x[1].get(i, j - 3), i, j);
            return out;
        }));
        c.add(new Case("stack", r -> new Tensor[] {rnd(r, 2, 3), rnd(r, 2, 3)}, x -> Tensor.stack(List.of(x[0], x[1]), 1), x -> {
            Nd out = Nd.zeros(2, 2, 3);
            for (int i = 0; i < 2; i++) for (int k = 0; k < 2; k++) for (int j = 0; j < 3; j++) out.set(x[k].get(i, j), i, k, j);
            return out;
        }));
        c.add(new Case("split", r -> new Tensor[] {rnd(r, 5, 2)}, x -> x[0].split(2, 0).get(2).mul(2).add(x[0].split(2, 0).get(0).sum()),
                x -> sliceRef(x[0], 0, 4, 5, 1).map(v -> 2 * v + java.util.Arrays.stream(x[0].data(), 0, 4).sum())));
        c.add(new Case("splitWithSizes", r -> new Tensor[] {rnd(r, 2, 5)}, x -> x[0].splitWithSizes(new int[] {1, 4}, 1).get(1),
                x -> sliceRef(x[0], 1, 1, 5, 1)));
        c.add(new Case("chunk", r -> new Tensor[] {rnd(r, 2, 6)}, x -> x[0].chunk(3, 1).get(1), x -> sliceRef(x[0], 1, 2, 4, 1)));
        // ---- indexing
        c.add(new Case("indexSelect", r -> new Tensor[] {rnd(r, 4, 3), Tensor.ofLongs(new long[] {3, 0, 3}, 3)},
                x -> x[0].indexSelect(0, x[1]), x -> {
                    Nd out = Nd.zeros(3, 3);
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) out.set(x[0].get((int) x[1].data()[i], j), i, j);
                    return out;
                }));
        c.add(new Case("gather", r -> new Tensor[] {rnd(r, 3, 4), Tensor.ofLongs(new long[] {0, 3, 1, 1, 2, 0}, 3, 2)},
                x -> x[0].gather(1, x[1]), x -> {
                    Nd out = Nd.zeros(3, 2);
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) out.set(x[0].get(i, (int) x[1].get(i, j)), i, j);
                    return out;
                }));
        c.add(new Case("scatterAdd", r -> new Tensor[] {rnd(r, 3, 4), Tensor.ofLongs(new long[] {0, 0, 3, 1, 2, 2}, 3, 2), rnd(r, 3, 2)},
                x -> x[0].scatterAdd(1, x[1], x[2]), x -> {
                    Nd out = new Nd(x[0].shape(), x[0].data().clone());
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) {
                        int col = (int) x[1].get(i, j);
                        out.set(out.get(i, col) + x[2].get(i, j), i, col);
                    }
                    return out;
                }));
        c.add(new Case("indexAdd", r -> new Tensor[] {rnd(r, 4, 2), Tensor.ofLongs(new long[] {1, 3, 1}, 3), rnd(r, 3, 2)},
                x -> x[0].indexAdd(0, x[1], x[2]), x -> {
                    Nd out = new Nd(x[0].shape(), x[0].data().clone());
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 2; j++) {
                        int row = (int) x[1].data()[i];
                        out.set(out.get(row, j) + x[2].get(i, j), row, j);
                    }
                    return out;
                }));
        c.add(new Case("maskedFill", r -> new Tensor[] {rnd(r, 3, 4), Tensor.ofBooleans(new boolean[] {true, false, false, true}, 4)},
                x -> x[0].maskedFill(x[1], -7), x -> Nd.zip(x[0], x[1], (v, m) -> m != 0 ? -7 : v)));
        c.add(new Case("where", r -> new Tensor[] {Tensor.ofBooleans(new boolean[] {true, false, true}, 3, 1), rnd(r, 3, 4), rnd(r, 4)},
                x -> Tensor.where(x[0], x[1], x[2]), x -> {
                    Nd out = Nd.zeros(3, 4);
                    for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) out.set(x[0].get(i, 0) != 0 ? x[1].get(i, j) : x[2].get(j), i, j);
                    return out;
                }));
        return c;
    }

    static Nd sliceRef(Nd x, int dim, int start, int end, int step) {
        int[] ns = x.shape().clone();
        ns[dim] = (end - start + step - 1) / step;
        Nd out = Nd.zeros(ns);
        for (int f = 0; f < out.data().length; f++) {
            int[] idx = Nd.unravel(f, ns);
            idx[dim] = start + idx[dim] * step;
            out.data()[f] = x.get(idx);
        }
        return out;
    }

    static Nd convRef(Nd x, Nd w, Nd b, int stride, int pad) {
        return convRef(x, w, b, new int[] {stride, stride}, new int[] {pad, pad}, new int[] {1, 1}, 1);
    }

    /** PyTorch's definition, term by term: out[i, oc, y, z] = b[oc] + sum over the oc's group's channels and the taps. */
    static Nd convRef(Nd x, Nd w, Nd b, int[] stride, int[] pad, int[] dil, int groups) {
        int n = x.shape()[0], h = x.shape()[2], wd = x.shape()[3];
        int o = w.shape()[0], cg = w.shape()[1], kh = w.shape()[2], kw = w.shape()[3];
        int oh = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0] + 1, ow = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
        Nd out = Nd.zeros(n, o, oh, ow);
        for (int i = 0; i < n; i++) for (int oc = 0; oc < o; oc++) for (int y = 0; y < oh; y++) for (int z = 0; z < ow; z++) {
            double s = b == null ? 0 : b.get(oc);
            int g = oc / (o / groups);
            for (int ch = 0; ch < cg; ch++) for (int p = 0; p < kh; p++) for (int q = 0; q < kw; q++) {
                int iy = y * stride[0] - pad[0] + p * dil[0], iz = z * stride[1] - pad[1] + q * dil[1];
                if (iy >= 0 && iy < h && iz >= 0 && iz < wd) s += x.get(i, g * cg + ch, iy, iz) * w.get(oc, ch, p, q);
            }
            out.set(s, i, oc, y, z);
        }
        return out;
    }
}
