package io.github.transformers4j.nn;

import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.tensor.Tensor;

/** torch.nn.GELU: {@code approximate} "none" (exact, erf) or "tanh". */
public class GELU extends Layer {
    public final String approximate;

    public GELU() {
        this("none");
    }

    public GELU(String approximate) {
        if (!approximate.equals("none") && !approximate.equals("tanh")) {
            throw new IllegalArgumentException("GELU: approximate must be 'none' or 'tanh', got '" + approximate + "'");
        }
        this.approximate = approximate;
    }

    @Override
    public Tensor forward(Tensor input) {
        return F.gelu(input, approximate);
    }
}
