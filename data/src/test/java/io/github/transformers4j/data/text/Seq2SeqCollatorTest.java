package io.github.transformers4j.data.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.text.tokenizer.BpeTrainer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.tensor.DType;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class Seq2SeqCollatorTest {
    static Tokenizer tok;

    @BeforeAll
    static void tokenizer() {
        BpeTrainer t = new BpeTrainer(3 + 256 + 40, 1);
        t.feed("the cat sat on the mat and the dog sat on the log");
        tok = t.train();
    }

    @Test
    void shapesPaddingLabelsAndShiftedDecoderInputs() {
        Seq2SeqCollator c = new Seq2SeqCollator(tok, 32, 16);
        List<TextPair> pairs = List.of(new TextPair("1", "the cat sat on the mat", "cat sat"), new TextPair("2", "the dog", "dog sat on the log"));
        int[] s0 = c.encodeSource("the cat sat on the mat"), s1 = c.encodeSource("the dog");
        int[] t0 = c.encodeTarget("cat sat"), t1 = c.encodeTarget("dog sat on the log");
        try (Seq2SeqBatch b = c.collate(pairs)) {
            int s = Math.max(s0.length, s1.length), t = Math.max(t0.length, t1.length);
            assertThat(b.inputIds().shape()).containsExactly(2, s);
            assertThat(b.sourcePaddingMask().shape()).containsExactly(2, s);
            assertThat(b.sourcePaddingMask().dtype()).isEqualTo(DType.BOOL);
            assertThat(b.decoderInputIds().shape()).containsExactly(2, t);
            assertThat(b.labels().shape()).containsExactly(2, t);
            long[] in = b.inputIds().toLongArray(), lab = b.labels().toLongArray(), dec = b.decoderInputIds().toLongArray();
            float[] mask = b.sourcePaddingMask().to(DType.F32).toFloatArray();
            int[][] src = {s0, s1}, tgt = {t0, t1};
            for (int i = 0; i < 2; i++) {
                assertThat(src[i][src[i].length - 1]).isEqualTo(c.eosId()); // every sequence ends with EOS
                assertThat(tgt[i][tgt[i].length - 1]).isEqualTo(c.eosId());
                for (int j = 0; j < s; j++) {
                    boolean pad = j >= src[i].length;
                    assertThat(in[i * s + j]).isEqualTo(pad ? c.padId() : src[i][j]);
                    assertThat(mask[i * s + j]).isEqualTo(pad ? 1f : 0f);
                }
                for (int j = 0; j < t; j++) {
                    boolean pad = j >= tgt[i].length;
                    assertThat(lab[i * t + j]).isEqualTo(pad ? -100 : tgt[i][j]);
                    long expectedDec = j == 0 ? c.eosId() : pad ? c.padId() : tgt[i][j - 1];
                    assertThat(dec[i * t + j]).as("decoder input %d,%d", i, j).isEqualTo(expectedDec);
                }
            }
            assertThat(b.pairs()).isEqualTo(pairs);
        }
    }

    @Test
    void truncatesToTheMaximumKeepingEos() {
        Seq2SeqCollator c = new Seq2SeqCollator(tok, 5, 3);
        int[] full = tok.encode("the cat sat on the mat and the dog sat on the log", false);
        int[] src = c.encodeSource("the cat sat on the mat and the dog sat on the log");
        assertThat(src).hasSize(5);
        assertThat(java.util.Arrays.copyOf(src, 4)).containsExactly(java.util.Arrays.copyOf(full, 4));
        assertThat(src[4]).isEqualTo(c.eosId());
        assertThat(c.encodeTarget("the cat sat on the mat")).hasSize(3).endsWith(c.eosId());
    }

    @Test
    void emptyHugeAndUnusualDocumentsAreHandled() {
        Seq2SeqCollator c = new Seq2SeqCollator(tok, 64, 8);
        assertThat(c.encodeSource("")).containsExactly(c.eosId()); // empty: just EOS
        String huge = "the cat sat on the mat ".repeat(200_000); // 4.6 MB of text
        long t0 = System.nanoTime();
        int[] ids = c.encodeSource(huge);
        assertThat(ids).hasSize(64).endsWith(c.eosId());
        assertThat(java.util.Arrays.copyOf(ids, 63)).containsExactly(java.util.Arrays.copyOf(tok.encode(huge.substring(0, 5000), false), 63));
        assertThat((System.nanoTime() - t0) / 1e9).as("cut before tokenizing").isLessThan(2.0);
        // characters never seen in training (CJK, emoji, control) are byte tokens, never unknown, and decode back
        String odd = "日本語 🎉 \u0007 Ω";
        int[] oddIds = c.encodeSource(odd);
        assertThat(oddIds).doesNotContain(tok.unkId());
        assertThat(tok.decode(oddIds, true)).isEqualTo(odd);
        // a literal "<pad>" in the text is not padding
        assertThat(c.encodeSource("a <pad> b")).doesNotContain(c.padId());
        try (Seq2SeqBatch b = c.collate(List.of(new TextPair("e", "", "")))) {
            assertThat(b.inputIds().toLongArray()).containsExactly(c.eosId());
            assertThat(b.labels().toLongArray()).containsExactly(c.eosId());
        }
    }

    @Test
    void needsPadAndEosTokens() {
        Tokenizer noSpecials = Tokenizer.fromJson("""
                {"model":{"type":"WordLevel","vocab":{"a":0,"b":1},"unk_token":"a"}}""");
        assertThatThrownBy(() -> new Seq2SeqCollator(noSpecials, 8, 8)).hasMessageContaining("pad").hasMessageContaining("EOS");
    }
}
