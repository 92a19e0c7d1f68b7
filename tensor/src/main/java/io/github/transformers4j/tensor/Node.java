package io.github.transformers4j.tensor;

/** One recorded op of the autograd tape: its inputs and how to map the output's gradient to theirs. */
final class Node {
    /** Gradients for each input (null where an input needs none), given the gradient of the output. */
    @FunctionalInterface
    interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    final String op;
    final Tensor[] inputs;
    final Backward backward;

    Node(String op, Tensor[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }
}
