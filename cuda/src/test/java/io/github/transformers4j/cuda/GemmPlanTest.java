package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checks the row-major to column-major translation on the CPU: executing the plan with a naive column-major GEMM
 * (the semantics cuBLASLt implements) must equal a direct row-major product.
 */
class GemmPlanTest {

    @Test
    void columnMajorExecutionOfThePlanEqualsTheRowMajorProduct() {
        Random rnd = new Random(42);
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int m = 5, n = 7, k = 3, batch = 2, pad = 2;
                long lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + 1;
                long sa = (ta ? k : m) * lda + 3, sb = (tb ? n : k) * ldb, sc = m * ldc + 5;
                float[] a = random(rnd, (int) (sa * batch)), b = random(rnd, (int) (sb * batch));
                float[] c = new float[(int) (sc * batch)];
                GemmPlan plan = GemmPlan.rowMajor(ta, tb, m, n, k, lda, sa, ldb, sb, ldc, sc, batch);
                assertThat(plan.m()).isEqualTo(n);
                assertThat(plan.n()).isEqualTo(m);
                columnMajorGemm(plan, b, a, c);
                for (int p = 0; p < batch; p++) {
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double want = 0;
                            for (int l = 0; l < k; l++) {
                                double av = ta ? a[(int) (p * sa + l * lda + i)] : a[(int) (p * sa + i * lda + l)];
                                double bv = tb ? b[(int) (p * sb + j * ldb + l)] : b[(int) (p * sb + l * ldb + j)];
                                want += av * bv;
                            }
                            assertThat((double) c[(int) (p * sc + i * ldc + j)]).as("ta=%s tb=%s [%d,%d,%d]", ta, tb, p, i, j)
                                    .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5));
                        }
                    }
                }
            }
        }
    }

    /** D = op(X) op(Y), column-major, as cuBLASLt defines it with the plan's layouts. */
    private static void columnMajorGemm(GemmPlan p, float[] x, float[] y, float[] d) {
        for (int q = 0; q < p.batch(); q++) {
            for (int i = 0; i < p.m(); i++) {
                for (int j = 0; j < p.n(); j++) {
                    float s = 0;
                    for (int l = 0; l < p.k(); l++) {
                        float xv = p.transFirst() ? at(x, p.first(), q, l, i) : at(x, p.first(), q, i, l);
                        float yv = p.transSecond() ? at(y, p.second(), q, j, l) : at(y, p.second(), q, l, j);
                        s += xv * yv;
                    }
                    d[(int) (q * p.out().batchStride() + (long) j * p.out().ld() + i)] = s;
                }
            }
        }
    }

    private static float at(float[] buf, GemmPlan.Layout l, int batch, long row, long col) {
        assertThat(row).isLessThan(l.rows());
        assertThat(col).isLessThan(l.cols());
        return buf[(int) (batch * l.batchStride() + col * l.ld() + row)];
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    @Test
    void rejectsLeadingDimensionsSmallerThanARow() {
        assertThatThrownBy(() -> GemmPlan.rowMajor(false, false, 4, 5, 6, 5, 0, 5, 0, 5, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lda=5 < 6")
                .hasMessageContaining("[4, 6]");
        assertThatThrownBy(() -> GemmPlan.rowMajor(false, true, 4, 5, 6, 6, 0, 5, 0, 5, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ldb=5 < 6")
                .hasMessageContaining("transposed");
        assertThatThrownBy(() -> GemmPlan.rowMajor(false, false, 4, 5, 6, 6, 0, 5, 0, 4, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ldc=4 < n=5");
        assertThatThrownBy(() -> GemmPlan.rowMajor(false, false, 0, 5, 6, 6, 0, 5, 0, 5, 0, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("m=0");
    }
}
