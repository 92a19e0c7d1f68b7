package io.github.transformers4j.data.text;

import io.github.transformers4j.tensor.Tensor;
import java.util.List;

/**
 * A padded batch for an encoder-decoder model, all on the CPU:
 * <ul>
 *   <li>{@code inputIds} I64 (B, S): source tokens, each row ending with EOS, right-padded with the pad id;</li>
 *   <li>{@code sourcePaddingMask} BOOL (B, S): true at padding (the key padding mask of the encoder and cross-attention);</li>
 *   <li>{@code decoderInputIds} I64 (B, T): the labels shifted right behind the start token (EOS), pad-padded;</li>
 *   <li>{@code labels} I64 (B, T): target tokens ending with EOS, padded with -100 (ignored by the loss).</li>
 * </ul>
 * {@code pairs} are the examples the batch was made from (references for ROUGE). Close it to free the tensors now.
 */
public record Seq2SeqBatch(Tensor inputIds, Tensor sourcePaddingMask, Tensor decoderInputIds, Tensor labels, List<TextPair> pairs,
                           long sourceTokens, long targetTokens) implements AutoCloseable {
    public int size() {
        return inputIds.size(0);
    }

    @Override
    public void close() {
        inputIds.release();
        sourcePaddingMask.release();
        decoderInputIds.release();
        labels.release();
    }
}
