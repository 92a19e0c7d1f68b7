package io.github.transformers4j.models;

import java.util.List;
import io.github.transformers4j.tensor.Tensor;

/**
 * What a pretrained-style model returns, as Hugging Face's {@code BaseModelOutputWithPooling} / {@code *Output}: each
 * field may be null when the model has no such output or it was not asked for.
 *
 * @param lastHiddenState (B, L, d)
 * @param poolerOutput    (B, d), from the first token (BERT, ViT with a pooler)
 * @param hiddenStates    the embeddings' output then every layer's output, (B, L, d) each (n layers + 1), on request
 * @param attentions      every layer's attention weights (B, H, Lq, Lk), on request
 * @param logits          (B, L, V) for language-model heads, (B, classes) for classifiers
 */
public record ModelOutput(Tensor lastHiddenState, Tensor poolerOutput, List<Tensor> hiddenStates, List<Tensor> attentions,
                          Tensor logits) {
    /** Which optional outputs to return: HF's {@code output_hidden_states} and {@code output_attentions}. */
    public record Want(boolean hiddenStates, boolean attentions) {
        public static final Want NONE = new Want(false, false);
        public static final Want ALL = new Want(true, true);
    }

    public ModelOutput withLogits(Tensor logits) {
        return new ModelOutput(lastHiddenState, poolerOutput, hiddenStates, attentions, logits);
    }
}
