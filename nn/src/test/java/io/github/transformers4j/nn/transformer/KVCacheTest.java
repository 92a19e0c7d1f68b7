package io.github.transformers4j.nn.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Incremental decoding with cached keys and values equals a full causal forward over the prefix. */
class KVCacheTest {
    static TransformerDecoder decoder(boolean normFirst, boolean batchFirst) {
        var c = TransformerLayerConfig.of(16, 4).withDimFeedforward(32).withDropout(0.1).withNormFirst(normFirst).withBatchFirst(batchFirst);
        Random4j rng = new Random4j(7);
        var d = new TransformerDecoder(() -> new TransformerDecoderLayer(c, rng), 2, new io.github.transformers4j.nn.LayerNorm(new int[] {16}, 1e-5, true, true));
        d.eval();
        return d;
    }

    @ParameterizedTest
    @CsvSource({"false,true", "true,true", "false,false"})
    void stepByStepEqualsFullCausalForward(boolean normFirst, boolean batchFirst) {
        TransformerDecoder d = decoder(normFirst, batchFirst);
        Random4j rng = new Random4j(3);
        int b = 2, t = 5, s = 4;
        Tensor tgt = Tensor.randn(rng, b, t, 16), mem = Tensor.randn(rng, b, s, 16);
        Tensor pad = Tensor.ofLongs(new long[] {0, 0, 0, 0, 0, 0, 1, 1}, b, s).eq(1); // row 1: last two memory positions padded
        try (var g = Grad.disabled(); KVCache cache = d.newCache()) {
            Tensor tg = batchFirst ? tgt : tgt.transpose(0, 1), mm = batchFirst ? mem : mem.transpose(0, 1);
            Tensor full = d.forward(tg, mm, null, null, null, pad, true, false);
            if (!batchFirst) full = full.transpose(0, 1);
            List<Tensor> steps = new ArrayList<>();
            // first two positions at once (a prefix), then one at a time
            Tensor first = d.forwardCached(slice(tgt, 0, 2, batchFirst), mm, pad, cache);
            steps.add(batchFirst ? first : first.transpose(0, 1));
            for (int i = 2; i < t; i++) {
                Tensor o = d.forwardCached(slice(tgt, i, 1, batchFirst), mm, pad, cache);
                steps.add(batchFirst ? o : o.transpose(0, 1));
            }
            assertThat(cache.length()).isEqualTo(t);
            float[] expected = full.contiguous().toFloatArray(), actual = Tensor.cat(steps, 1).contiguous().toFloatArray();
            assertThat(actual).hasSameSizeAs(expected);
            for (int i = 0; i < expected.length; i++) assertThat(actual[i]).as("element %d", i).isCloseTo(expected[i], within(2e-5f));
        }
    }

    private static Tensor slice(Tensor tgt, int start, int len, boolean batchFirst) {
        Tensor x = tgt.narrow(1, start, len);
        return batchFirst ? x : x.transpose(0, 1);
    }

    @Test
    void reorderSelectsBatchRows() {
        TransformerDecoder d = decoder(false, true);
        Random4j rng = new Random4j(5);
        Tensor tgt = Tensor.randn(rng, 3, 2, 16), mem = Tensor.randn(rng, 3, 4, 16);
        try (var g = Grad.disabled(); KVCache a = d.newCache(); KVCache bCache = d.newCache()) {
            d.forwardCached(tgt.narrow(1, 0, 1), mem, null, a);
            Tensor idx = Tensor.ofLongs(new long[] {2, 2, 0}, 3);
            a.reorder(idx);
            // the same as decoding the reordered rows from the start (memory rows reordered too)
            Tensor memR = mem.indexSelect(0, idx), tgtR = tgt.indexSelect(0, idx);
            d.forwardCached(tgtR.narrow(1, 0, 1), memR, null, bCache);
            Tensor next = tgtR.narrow(1, 1, 1);
            // a keeps the original cross cache, so give both the reordered memory by using bCache's result as reference
            float[] viaReorder = d.forwardCached(next, memR, null, withCross(a, bCache)).toFloatArray();
            float[] direct = d.forwardCached(next, memR, null, bCache).toFloatArray();
            for (int i = 0; i < direct.length; i++) assertThat(viaReorder[i]).isCloseTo(direct[i], within(1e-5f));
        }
    }

    /** Replaces a's cross-attention cache with b's (the test reorders the memory rows by hand). */
    private static KVCache withCross(KVCache a, KVCache b) {
        for (int i = 0; i < a.numLayers(); i++) {
            a.layer(i).crossKey = b.layer(i).crossKey;
            a.layer(i).crossValue = b.layer(i).crossValue;
        }
        return a;
    }
}
