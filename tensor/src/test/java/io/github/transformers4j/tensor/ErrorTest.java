package io.github.transformers4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad input fails with an exception that names the op and the shapes or values involved. */
class ErrorTest {
    final Tensor a = Tensor.zeros(64, 128), b = Tensor.zeros(256, 10);

    @Test
    void matmulInnerDimensions() {
        assertThatThrownBy(() -> a.matmul(b)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("matmul: inner dimensions differ: [64, 128] @ [256, 10]");
    }

    @Test
    void matmulDtypes() {
        assertThatThrownBy(() -> a.matmul(Tensor.zeros(DType.F64, 128, 3))).hasMessageContaining("matmul").hasMessageContaining("F32")
                .hasMessageContaining("F64");
    }

    @Test
    void broadcastMismatch() {
        assertThatThrownBy(() -> Tensor.zeros(3, 4).add(Tensor.zeros(5))).hasMessageContaining("add").hasMessageContaining("[3, 4]")
                .hasMessageContaining("[5]");
    }

    @Test
    void badDims() {
        assertThatThrownBy(() -> a.sum(2, false)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("sum")
                .hasMessageContaining("dim 2");
        assertThatThrownBy(() -> a.transpose(0, -3)).hasMessageContaining("transpose");
        assertThatThrownBy(() -> a.permute(0, 0)).hasMessageContaining("permute").hasMessageContaining("repeated");
        assertThatThrownBy(() -> a.softmax(5)).hasMessageContaining("softmax");
    }

    @Test
    void badShapes() {
        assertThatThrownBy(() -> a.view(3, -1)).hasMessageContaining("view").hasMessageContaining("[3, -1]").hasMessageContaining("[64, 128]");
        assertThatThrownBy(() -> a.t().view(-1)).hasMessageContaining("reshape()");
        assertThatThrownBy(() -> a.expand(3, 64, 129)).hasMessageContaining("expand");
        assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3)).hasMessageContaining("5 values").hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> Tensor.cat(List.of(Tensor.zeros(2, 3), Tensor.zeros(3, 3)), 1)).hasMessageContaining("cat")
                .hasMessageContaining("[2, 3]").hasMessageContaining("[3, 3]");
        assertThatThrownBy(() -> a.narrow(1, 100, 50)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("narrow");
        assertThatThrownBy(() -> NnOps.layerNorm(a, 1, Tensor.ones(64), null, 1e-5)).hasMessageContaining("layerNorm").hasMessageContaining("[64]");
        assertThatThrownBy(() -> NnOps.conv2d(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(4, 1, 2, 2), null, 2, 0))
                .hasMessageContaining("conv2d").hasMessageContaining("3 channels");
        Tensor p = Tensor.zeros(2, 3).requiresGrad(true);
        assertThatThrownBy(() -> p.setGrad(Tensor.zeros(3, 2))).hasMessageContaining("setGrad").hasMessageContaining("[3, 2]")
                .hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> p.setGrad(Tensor.zeros(DType.F64, 2, 3))).hasMessageContaining("F64").hasMessageContaining("F32");
        p.setGrad(Tensor.ones(2, 3));
        p.mul(2).sum().backward(); // accumulates into the gradient that was set, as PyTorch
        assertThat(p.grad().toFloatArray()).containsOnly(3f);
    }

    @Test
    void outOfRangeIndices() {
        Tensor w = Tensor.zeros(5, 3);
        assertThatThrownBy(() -> w.indexSelect(0, Tensor.ofLongs(new long[] {1, 7}, 2))).isInstanceOf(IndexOutOfBoundsException.class)
                .hasMessageContaining("index 7").hasMessageContaining("size 5");
        assertThatThrownBy(() -> NnOps.embedding(w, Tensor.ofLongs(new long[] {-9}, 1), -1)).hasMessageContaining("index -9");
        assertThatThrownBy(() -> w.gather(1, Tensor.ofLongs(new long[] {3}, 1, 1))).hasMessageContaining("gather").hasMessageContaining("index 3");
        assertThatThrownBy(() -> w.select(0, 5)).hasMessageContaining("select").hasMessageContaining("index 5");
        assertThatThrownBy(() -> w.indexSelect(0, Tensor.of(new float[] {1}, 1))).hasMessageContaining("I64");
    }

    @Test
    void dtypeMisuse() {
        assertThatThrownBy(() -> Tensor.zeros(3).maskedFill(Tensor.zeros(3), 1)).hasMessageContaining("maskedFill").hasMessageContaining("BOOL");
        assertThatThrownBy(() -> Tensor.arange(4).mean()).hasMessageContaining("mean").hasMessageContaining("I64");
        assertThatThrownBy(() -> Tensor.arange(4).softmax(0)).hasMessageContaining("softmax");
    }

    @Test
    void einsumErrors() {
        assertThatThrownBy(() -> Tensor.einsum("ij,jk->ik", Tensor.zeros(2, 3), Tensor.zeros(4, 5))).hasMessageContaining("'j'")
                .hasMessageContaining("3").hasMessageContaining("4");
        assertThatThrownBy(() -> Tensor.einsum("ij->iz", Tensor.zeros(2, 3))).hasMessageContaining("'z'");
        assertThatThrownBy(() -> Tensor.einsum("ijk->i", Tensor.zeros(2, 3))).hasMessageContaining("ijk");
    }

    @Test
    void useAfterRelease() {
        Tensor t;
        try (var s = Memory.scope()) {
            t = Tensor.ones(3);
        }
        assertThatThrownBy(() -> t.add(1.0)).isInstanceOf(IllegalStateException.class).hasMessageContaining("released");
    }
}
