package io.github.transformers4j.data.text;

import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Turns (document, summary) pairs into a {@link Seq2SeqBatch}: tokenizes without the file's special tokens, truncates
 * the source to {@code maxSourceLength} and the target to {@code maxTargetLength} tokens (EOS included: the last kept
 * token is always EOS), pads to the longest row of the batch (dynamic padding), pads labels with -100, and builds the
 * decoder inputs by shifting the labels right behind the start token, which is EOS (as T5 does).
 *
 * <p>Edge cases: an empty document (or summary) becomes just [EOS]; a document far beyond the maximum length is cut
 * before tokenizing to {@code 8 * maxSourceLength} characters at a space (re-encoding the whole text when the cut
 * leaves fewer than {@code maxSourceLength + 32} tokens), so a huge input costs no more than a long one. A literal
 * pad token in the text (e.g. the string "&lt;pad&gt;") is replaced by the unknown token, so padding is exactly what the
 * collator added.
 */
public final class Seq2SeqCollator {
    public static final long IGNORE_INDEX = -100;
    private final Tokenizer tokenizer;
    private final int maxSourceLength, maxTargetLength, padId, eosId;

    public Seq2SeqCollator(Tokenizer tokenizer, int maxSourceLength, int maxTargetLength) {
        if (maxSourceLength < 1 || maxTargetLength < 1)
            throw new IllegalArgumentException("Seq2SeqCollator: maximum lengths must be >= 1, got source " + maxSourceLength
                    + ", target " + maxTargetLength);
        this.tokenizer = tokenizer;
        this.maxSourceLength = maxSourceLength;
        this.maxTargetLength = maxTargetLength;
        this.padId = tokenizer.padId();
        this.eosId = tokenizer.eosId();
        if (padId < 0 || eosId < 0)
            throw new IllegalArgumentException("Seq2SeqCollator: the tokenizer needs a pad token (<pad>) and an EOS token (</s>); found pad "
                    + padId + ", eos " + eosId);
    }

    public int padId() {
        return padId;
    }

    public int eosId() {
        return eosId;
    }

    public int maxSourceLength() {
        return maxSourceLength;
    }

    public int maxTargetLength() {
        return maxTargetLength;
    }

    /** Source ids of one document: at most maxSourceLength, ending with EOS. */
    public int[] encodeSource(String text) {
        return encode(text, maxSourceLength);
    }

    public int[] encodeTarget(String text) {
        return encode(text, maxTargetLength);
    }

    private int[] encode(String text, int max) {
        int[] ids = null;
        int cutAt = 8 * max;
        if (text.length() > cutAt) {
            int sp = text.lastIndexOf(' ', cutAt);
            int[] cut = tokenizer.encode(text.substring(0, sp > 0 ? sp : cutAt), false);
            if (cut.length >= max + 32) ids = cut;
        }
        if (ids == null) ids = tokenizer.encode(text, false);
        int unk = tokenizer.unkId();
        if (unk >= 0) for (int i = 0; i < ids.length; i++) if (ids[i] == padId) ids[i] = unk; // a literal "<pad>" in the text is not padding
        int n = Math.min(ids.length, max - 1);
        int[] out = Arrays.copyOf(ids, n + 1);
        out[n] = eosId;
        return out;
    }

    public Seq2SeqBatch collate(List<TextPair> pairs) {
        int b = pairs.size();
        if (b == 0) throw new IllegalArgumentException("Seq2SeqCollator: empty batch");
        int[][] src = new int[b][], tgt = new int[b][];
        int s = 0, t = 0;
        long srcTokens = 0, tgtTokens = 0;
        for (int i = 0; i < b; i++) {
            src[i] = encodeSource(pairs.get(i).document());
            tgt[i] = encodeTarget(pairs.get(i).summary());
            s = Math.max(s, src[i].length);
            t = Math.max(t, tgt[i].length);
            srcTokens += src[i].length;
            tgtTokens += tgt[i].length;
        }
        long[] input = new long[b * s], dec = new long[b * t], lab = new long[b * t];
        Arrays.fill(input, padId);
        Arrays.fill(dec, padId);
        Arrays.fill(lab, IGNORE_INDEX);
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < src[i].length; j++) input[i * s + j] = src[i][j];
            for (int j = 0; j < tgt[i].length; j++) {
                lab[i * t + j] = tgt[i][j];
                dec[i * t + j] = j == 0 ? eosId : tgt[i][j - 1];
            }
        }
        Tensor inputIds = Tensor.ofLongs(input, b, s);
        return new Seq2SeqBatch(inputIds, inputIds.eq(padId), Tensor.ofLongs(dec, b, t), Tensor.ofLongs(lab, b, t), List.copyOf(pairs),
                srcTokens, tgtTokens);
    }
}
