package io.github.transformers4j.cuda;

/**
 * A row-major product {@code C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C} translated to the column-major
 * call cuBLASLt makes. A row-major matrix with leading dimension ld is the column-major transpose with the same ld,
 * so {@code C = op(A) op(B)} is computed as {@code C^T = op(B)^T op(A)^T}: the first cuBLASLt operand is the user's
 * B, the second is A, and the problem is n x m x k.
 *
 * @param m           rows of the column-major result (the user's n)
 * @param n           columns of the column-major result (the user's m)
 * @param first       layout of the first column-major operand (the user's B) as stored
 * @param second      layout of the second column-major operand (the user's A) as stored
 * @param out         layout of C (and D) as column-major n x m
 * @param transFirst  whether cuBLASLt transposes the first operand (= transB)
 * @param transSecond whether cuBLASLt transposes the second operand (= transA)
 */
public record GemmPlan(long m, long n, long k, boolean transFirst, boolean transSecond,
                       Layout first, Layout second, Layout out, int batch) {

    /** A column-major matrix as stored: rows x cols, leading dimension, elements between batch entries. */
    public record Layout(long rows, long cols, long ld, long batchStride) {}

    /**
     * Plans {@code C = alpha op(A) op(B) + beta C}, all row-major; {@code op(A)} is m x k, {@code op(B)} is k x n.
     * lda is the distance between rows of A as stored ({@code transA}: A is stored k x m); likewise ldb, ldc.
     */
    public static GemmPlan rowMajor(boolean transA, boolean transB, long m, long n, long k,
                                    long lda, long strideA, long ldb, long strideB, long ldc, long strideC, int batch) {
        if (m <= 0 || n <= 0 || k <= 0 || batch <= 0) {
            throw new IllegalArgumentException("matmul: sizes must be positive: m=" + m + " n=" + n + " k=" + k
                    + " batch=" + batch);
        }
        long aCols = transA ? m : k;
        long bCols = transB ? k : n;
        if (lda < aCols) throw ldError("A", transA, transA ? k : m, aCols, lda);
        if (ldb < bCols) throw ldError("B", transB, transB ? n : k, bCols, ldb);
        if (ldc < n) throw new IllegalArgumentException("matmul: ldc=" + ldc + " < n=" + n + " for C [" + m + ", " + n + "]");
        Layout first = transB ? new Layout(k, n, ldb, strideB) : new Layout(n, k, ldb, strideB);
        Layout second = transA ? new Layout(m, k, lda, strideA) : new Layout(k, m, lda, strideA);
        Layout out = new Layout(n, m, ldc, strideC);
        return new GemmPlan(n, m, k, transB, transA, first, second, out, batch);
    }

    private static IllegalArgumentException ldError(String name, boolean trans, long rows, long cols, long ld) {
        return new IllegalArgumentException("matmul: ld" + name.toLowerCase() + "=" + ld + " < " + cols + " for "
                + name + (trans ? " (transposed)" : "") + " stored as [" + rows + ", " + cols + "] row-major");
    }
}
