package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void factories() {
        assertThat(Tensor.arange(0, 5, 2).toLongArray()).containsExactly(0, 2, 4);
        assertThat(Tensor.arange(0, 1, 0.25).toFloatArray()).containsExactly(0f, 0.25f, 0.5f, 0.75f);
        assertThat(Tensor.eye(3).toFloatArray()).containsExactly(1, 0, 0, 0, 1, 0, 0, 0, 1);
        assertThat(Tensor.full(2.5, 2, 2).toFloatArray()).containsExactly(2.5f, 2.5f, 2.5f, 2.5f);
        assertThat(Tensor.zeros(DType.I32, 2).dtype()).isEqualTo(DType.I32);
        assertThat(Tensor.scalar(3).dim()).isZero();
        assertThat(Tensor.scalar(3).item()).isEqualTo(3);
    }

    @Test
    void viewsShareStorageAndCopiesDoNot() {
        Tensor x = Tensor.arange(0, 6, 1, DType.F32).reshape(2, 3);
        Tensor row = x.select(0, 1);
        Tensor xt = x.t();
        assertThat(xt.isContiguous()).isFalse();
        assertThat(xt.contiguous().isContiguous()).isTrue();
        try (var g = Grad.disabled()) {
            row.fill_(9);
        }
        assertThat(x.toFloatArray()).containsExactly(0, 1, 2, 9, 9, 9);
        assertThat(xt.toFloatArray()).containsExactly(0, 9, 1, 9, 2, 9);
        Tensor c = x.clone();
        try (var g = Grad.disabled()) {
            c.zero_();
        }
        assertThat(x.toFloatArray()).containsExactly(0, 1, 2, 9, 9, 9);
    }

    @Test
    void splitAndChunk() {
        Tensor x = Tensor.arange(0, 7, 1, DType.F32);
        List<Tensor> parts = x.split(3, 0);
        assertThat(parts).hasSize(3);
        assertThat(parts.get(2).toFloatArray()).containsExactly(6);
        assertThat(x.chunk(2, 0).get(0).toFloatArray()).containsExactly(0, 1, 2, 3);
    }

    @Test
    void comparisonsArgmaxAndWhere() {
        Tensor x = Tensor.of(new float[] {3, -1, 5, 5, 0, 2}, 2, 3);
        assertThat(x.gt(1).dtype()).isEqualTo(DType.BOOL);
        assertThat(x.gt(1).toLongArray()).containsExactly(1, 0, 1, 1, 0, 1);
        assertThat(x.argmax(1, false).toLongArray()).containsExactly(2, 0);
        assertThat(x.argmin(0, true).shape()).containsExactly(1, 3);
        assertThat(Tensor.where(x.lt(0), Tensor.zeros(1), x).toFloatArray()).containsExactly(3, 0, 5, 5, 0, 2);
        assertThat(x.eq(Tensor.of(new float[] {3, 0, 2}, 3)).toLongArray()).containsExactly(1, 0, 0, 0, 1, 1);
    }

    @Test
    void integerArithmeticStaysIntegerAndDivisionIsTrueDivision() {
        Tensor i = Tensor.arange(5);
        assertThat(i.add(1.0).dtype()).isEqualTo(DType.I64);
        assertThat(i.add(1.0).toLongArray()).containsExactly(1, 2, 3, 4, 5);
        assertThat(i.div(Tensor.arange(1, 6, 1)).dtype()).isEqualTo(DType.F32);
        assertThat(i.sum().toLongArray()).containsExactly(10);
        assertThat(Tensor.ofLongs(new long[] {Long.MAX_VALUE - 1}, 1).to(DType.I64).toLongArray()).containsExactly(Long.MAX_VALUE - 1);
    }

    @Test
    void bf16RoundsToNearestEvenAndConvertsBack() {
        float[] v = {1.0f, 1.00390625f /* 1 + 2^-8: a tie, rounds to even 1.0 */, 1.01171875f /* 1 + 3*2^-8: tie -> 1.015625 */, -3.14159f, 65504f};
        Tensor b = Tensor.of(v, v.length).to(DType.BF16);
        assertThat(b.dtype()).isEqualTo(DType.BF16);
        float[] back = b.to(DType.F32).toFloatArray();
        assertThat(back[0]).isEqualTo(1.0f);
        assertThat(back[1]).isEqualTo(1.0f);
        assertThat(back[2]).isEqualTo(1.015625f);
        assertThat(back[3]).isEqualTo(-3.140625f);
        assertThat(Math.abs(back[4] - 65504f) / 65504f).isLessThan(0.004f);
        // arithmetic on bf16 reads as float and rounds the result to bf16
        assertThat(b.add(b).dtype()).isEqualTo(DType.BF16);
        assertThat(Tensor.of(new float[] {Float.NaN}, 1).to(DType.BF16).to(DType.F32).item()).isNaN();
    }

    @Test
    void bytesRoundTripLittleEndian() {
        Tensor x = Tensor.of(new float[] {1.5f, -2f, 3.25f, 0f}, 2, 2);
        ByteBuffer bytes = x.toBytes();
        assertThat(bytes.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
        assertThat(bytes.getFloat(0)).isEqualTo(1.5f);
        Tensor y = Tensor.fromBytes(DType.F32, new int[] {2, 2}, bytes);
        assertThat(y.toFloatArray()).containsExactly(1.5f, -2f, 3.25f, 0f);
        Tensor t = x.t();
        assertThat(Tensor.fromBytes(DType.F32, new int[] {2, 2}, t.toBytes()).toFloatArray()).containsExactly(1.5f, 3.25f, -2f, 0f);
    }

    @Test
    void softmaxOfAFullyMaskedRowIsZerosNotNaN() {
        Tensor x = Tensor.of(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, 1, 2}, 2, 2).requiresGrad(true);
        Tensor y = x.softmax(-1);
        assertThat(y.toFloatArray()[0]).isZero();
        assertThat(y.toFloatArray()[1]).isZero();
        y.mul(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)).sum().backward();
        for (float g : x.grad().toFloatArray()) assertThat(g).isFinite();
    }

    @Test
    void largeMatmulMatchesDoubleReference() {
        Random4j r = new Random4j(0);
        Tensor a = Tensor.randn(r, 67, 129), b = Tensor.randn(r, 129, 45);
        double[] got = a.matmul(b).toDoubleArray();
        double[] ref = a.to(DType.F64).matmul(b.to(DType.F64)).toDoubleArray();
        double num = 0, den = 0;
        for (int i = 0; i < got.length; i++) {
            num += (got[i] - ref[i]) * (got[i] - ref[i]);
            den += ref[i] * ref[i];
        }
        assertThat(Math.sqrt(num / den)).isLessThan(1e-6);
    }

    @Test
    void toStringShowsShapeAndGradFn() {
        Tensor x = Tensor.ones(2).requiresGrad(true);
        assertThat(x.mul(2.0).toString()).contains("shape=[2]").contains("grad_fn=affine");
    }
}
