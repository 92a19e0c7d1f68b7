package io.github.transformers4j.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** matmul with broadcast batch dims, and einsum reduced to permutes, sums and batched matmul. */
final class Linalg {
    private Linalg() {}

    static Tensor matmul(Tensor a, Tensor b) {
        Elementwise.checkSameDevice("matmul", a, b);
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dimension, got "
                    + Shape.str(a.shape()) + " @ " + Shape.str(b.shape()));
        }
        DType low = Autocast.dtype();
        if (low != null && (a.dtype() == DType.F32 || a.dtype() == low) && (b.dtype() == DType.F32 || b.dtype() == low)
                && (a.dtype() != low || b.dtype() != low)) {
            try (var off = Autocast.enable(null)) {
                return matmul(a.to(low), b.to(low)); // low operands, fp32 accumulation, low result (as torch.autocast)
            }
        }
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException("matmul: dtypes differ: " + a.dtype() + " " + Shape.str(a.shape()) + " @ "
                    + b.dtype() + " " + Shape.str(b.shape()));
        }
        if (!a.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("matmul: needs floating-point tensors, got " + a.dtype());
        }
        if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
        if (b.dim() == 1) return matmul(a, b.unsqueeze(-1)).squeeze(-1);
        int[] sa = a.shape(), sb = b.shape();
        int m = sa[sa.length - 2], k = sa[sa.length - 1], k2 = sb[sb.length - 2], n = sb[sb.length - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shape.str(sa) + " @ " + Shape.str(sb));
        }
        int[] batch = Shape.broadcast("matmul", Arrays.copyOf(sa, sa.length - 2), Arrays.copyOf(sb, sb.length - 2));
        int bn = (int) Shape.numel(batch);
        Tensor a3 = as3d(a, batch, m, k, bn), b3 = as3d(b, batch, k, n, bn);
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = Tensor.empty(a.dtype(), a.device(), outShape);
        if (out.numel() > 0) {
            a.backend().matmul(a3, b3, Views.rawView(out, bn, m, n), false);
        }
        return Autograd.record("matmul", out, g -> new Tensor[] {
            a.requiresGrad ? Reductions.sumTo(matmul(g, b.mT()), sa) : null,
            b.requiresGrad ? sharedRightGrad(a, b, g, sa, sb, k, n) : null}, a, b);
    }

    /**
     * Gradient of b in a @ b. When a 2-D b is shared by a batch of a's (x @ W in a linear layer), it is
     * sum_i a_i^T g_i = a.reshape(-1, k)^T @ g.reshape(-1, n): one product over all rows instead of a batch of
     * small products and a reduction over the batch.
     */
    private static Tensor sharedRightGrad(Tensor a, Tensor b, Tensor g, int[] sa, int[] sb, int k, int n) {
        if (sb.length == 2 && sa.length > 2) {
            int rows = NnOps.leadingRows(a); // not -1: that cannot be inferred when k = 0
            return matmul(a.reshape(rows, k).mT(), g.reshape(rows, n));
        }
        return Reductions.sumTo(matmul(a.mT(), g), sb);
    }

    /** x broadcast to batch + [r, c] as a strided [bn, r, c] tensor whose inner layout is row-major or transposed. */
    private static Tensor as3d(Tensor x, int[] batch, int r, int c, int bn) {
        int[] full = Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = r;
        full[batch.length + 1] = c;
        Tensor e = Views.broadcastTo("matmul", x, full);
        long[] st = e.stride();
        long rs = st[st.length - 2], cs = st[st.length - 1];
        boolean innerOk = cs == 1 || rs == 1 || r == 1 || c == 1;
        long[] vs = innerOk ? Views.viewStrides(e.shape(), st, new int[] {bn, r, c}) : null;
        if (vs == null) {
            Tensor cont = Tensor.emptyLike(e);
            e.backend().copy(e, cont);
            return Views.rawView(cont, bn, r, c);
        }
        // a broadcast batch (all batch strides 0) merges to batch stride 0
        return new Tensor(e.storage, new int[] {bn, r, c}, vs, e.storageOffset());
    }

    // ------------------------------------------------------------ einsum

    static Tensor einsum(String equation, Tensor... operands) {
        String eq = equation.replace(" ", "");
        String lhs, rhs;
        int arrow = eq.indexOf("->");
        if (arrow >= 0) {
            lhs = eq.substring(0, arrow);
            rhs = eq.substring(arrow + 2);
        } else {
            lhs = eq;
            StringBuilder implicit = new StringBuilder();
            lhs.chars().filter(Character::isLetter).distinct().sorted()
                    .filter(ch -> lhs.chars().filter(x -> x == ch).count() == 1).forEach(ch -> implicit.append((char) ch));
            rhs = implicit.toString();
        }
        if (eq.contains(".")) throw new IllegalArgumentException("einsum: ellipsis is not supported in '" + equation + "'");
        String[] terms = lhs.split(",", -1);
        if (terms.length != operands.length) {
            throw new IllegalArgumentException("einsum: '" + equation + "' has " + terms.length + " operands but " + operands.length + " were given");
        }
        int[] sizes = new int[128];
        Arrays.fill(sizes, -1);
        for (int i = 0; i < terms.length; i++) {
            String t = terms[i];
            if (t.length() != operands[i].dim()) {
                throw new IllegalArgumentException("einsum: term '" + t + "' has " + t.length() + " letters but operand " + i
                        + " has shape " + Shape.str(operands[i].shape()));
            }
            for (int j = 0; j < t.length(); j++) {
                char ch = t.charAt(j);
                if (!Character.isLetter(ch)) throw new IllegalArgumentException("einsum: invalid subscript '" + ch + "' in '" + equation + "'");
                if (t.indexOf(ch) != j) {
                    throw new IllegalArgumentException("einsum: repeated subscript '" + ch + "' within operand " + i + " (diagonals) is not supported");
                }
                int s = operands[i].size(j);
                if (sizes[ch] >= 0 && sizes[ch] != s) {
                    throw new IllegalArgumentException("einsum: subscript '" + ch + "' has size " + sizes[ch] + " and " + s + " in '" + equation + "'");
                }
                sizes[ch] = s;
            }
        }
        for (char ch : rhs.toCharArray()) {
            if (sizes[ch] < 0) throw new IllegalArgumentException("einsum: output subscript '" + ch + "' does not appear in the inputs of '" + equation + "'");
        }
        Tensor acc = operands[0];
        String accTerm = terms[0];
        for (int i = 1; i < operands.length; i++) {
            StringBuilder later = new StringBuilder(rhs);
            for (int j = i + 1; j < terms.length; j++) later.append(terms[j]);
            String keep = later.toString();
            Object[] r = contract(acc, accTerm, operands[i], terms[i], keep, sizes);
            acc = (Tensor) r[0];
            accTerm = (String) r[1];
        }
        return finish(acc, accTerm, rhs);
    }

    /** Sums letters not in {@code rhs}, then permutes into rhs order. */
    private static Tensor finish(Tensor x, String term, String rhs) {
        List<Integer> sumDims = new ArrayList<>();
        StringBuilder rest = new StringBuilder();
        for (int j = 0; j < term.length(); j++) {
            if (rhs.indexOf(term.charAt(j)) < 0) sumDims.add(j);
            else rest.append(term.charAt(j));
        }
        if (!sumDims.isEmpty()) x = x.sum(sumDims.stream().mapToInt(Integer::intValue).toArray(), false);
        int[] perm = new int[rhs.length()];
        for (int j = 0; j < rhs.length(); j++) perm[j] = rest.indexOf(String.valueOf(rhs.charAt(j)));
        boolean identity = true;
        for (int j = 0; j < perm.length; j++) identity &= perm[j] == j;
        return identity ? x : x.permute(perm);
    }

    /** Contracts two operands, keeping letters that appear in {@code keep}; returns {tensor, its term}. */
    private static Object[] contract(Tensor a, String ta, Tensor b, String tb, String keep, int[] sizes) {
        // letters only in one operand and not kept are summed out first
        String ka = onlyUsed(ta, tb, keep), kb = onlyUsed(tb, ta, keep);
        a = finish(a, ta, ka);
        b = finish(b, tb, kb);
        List<Character> batch = new ArrayList<>(), left = new ArrayList<>(), right = new ArrayList<>(), contr = new ArrayList<>();
        for (char ch : ka.toCharArray()) {
            boolean inB = kb.indexOf(ch) >= 0, kept = keep.indexOf(ch) >= 0;
            if (inB && kept) batch.add(ch);
            else if (inB) contr.add(ch);
            else left.add(ch);
        }
        for (char ch : kb.toCharArray()) if (ka.indexOf(ch) < 0) right.add(ch);
        String pa = join(batch, left, contr), pb = join(batch, contr, right);
        a = finish(a, ka, pa);
        b = finish(b, kb, pb);
        int bs = prod(batch, sizes), ls = prod(left, sizes), cs = prod(contr, sizes), rs = prod(right, sizes);
        Tensor r = a.reshape(bs, ls, cs).matmul(b.reshape(bs, cs, rs));
        String term = join(batch, left, right);
        int[] shape = term.chars().map(ch -> sizes[ch]).toArray();
        return new Object[] {r.reshape(shape), term};
    }

    private static String onlyUsed(String t, String other, String keep) {
        StringBuilder sb = new StringBuilder();
        for (char ch : t.toCharArray()) if (other.indexOf(ch) >= 0 || keep.indexOf(ch) >= 0) sb.append(ch);
        return sb.toString();
    }

    @SafeVarargs
    private static String join(List<Character>... parts) {
        Set<Character> s = new LinkedHashSet<>();
        for (List<Character> p : parts) s.addAll(p);
        StringBuilder sb = new StringBuilder();
        s.forEach(sb::append);
        return sb.toString();
    }

    private static int prod(List<Character> letters, int[] sizes) {
        int p = 1;
        for (char ch : letters) p *= sizes[ch];
        return p;
    }
}
