package io.github.transformers4j.models.gpt2;

import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.init.Init;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * GPT-2's {@code Conv1D}: a linear layer whose weight is stored transposed, (in, out), as the original TensorFlow code
 * kept it: {@code y = x @ weight + bias}. Kept as it is so checkpoints load without transposing.
 */
public class Conv1D extends Module {
    public final Parameter weight, bias; // (in, out), (out)

    public Conv1D(int out, int in, double std, Random4j rng) {
        weight = param("weight", Init.normal_(Tensor.zeros(in, out), 0, std, rng));
        bias = param("bias", Tensor.zeros(out));
    }

    /** (..., in) -> (..., out). */
    public Tensor forward(Tensor x) {
        return F.linear(x, weight.data().mT(), bias.data());
    }
}
