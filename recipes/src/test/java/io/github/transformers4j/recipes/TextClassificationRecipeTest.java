package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.data.Datasets;
import io.github.transformers4j.data.text.TextClassificationDataset;
import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.data.vision.Batch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizing, truncating and batching labelled texts and sentence pairs for BERT fine-tuning. */
class TextClassificationRecipeTest {
    @TempDir
    Path dir;

    Tokenizer bert() throws Exception {
        Files.write(dir.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "e", "f"));
        return AutoTokenizer.fromPretrained(dir);
    }

    TextClassificationDataset data(String lines) throws Exception {
        Path f = dir.resolve("train.jsonl");
        Files.writeString(f, lines);
        return TextClassificationDataset.read(f);
    }

    @Test
    void singleTextsKeepTheirFinalSepWhenTruncatedAndPairsTruncateTheLongerFirst() throws Exception {
        Tokenizer tok = bert();
        var ds = data("""
                {"text": "a b c d e f a b", "label": "x"}
                {"text": "a b c d e f", "text_pair": "a b", "label": "y"}
                {"text": "a", "text_pair": "b c", "label": 1}
                """);
        assertThat(ds.labels()).containsExactly("1", "x", "y");
        var enc = TextClassificationRecipe.encode(ds, ds.labels(), tok, 7);
        assertThat(enc.get(0).ids()).containsExactly(2, 5, 6, 7, 8, 9, 3); // [CLS] a b c d e [SEP]
        assertThat(enc.get(0).types()).isNull();
        assertThat(enc.get(1).ids()).containsExactly(2, 5, 6, 3, 5, 6, 3); // [CLS] a b [SEP] a b [SEP]: the first text cut to 2
        assertThat(enc.get(1).types()).containsExactly(0, 0, 0, 0, 1, 1, 1);
        assertThat(enc.get(2).ids()).containsExactly(2, 5, 3, 6, 7, 3);
        assertThat(enc.get(2).label()).isZero();
        // a batch with a pair stacks ids and token types (B, 2, L), padded with [PAD] = 0
        try (var loader = TextClassificationRecipe.loader(Datasets.of(enc), 3, false, 0, 0)) {
            Batch b = loader.epoch(0).iterator().next();
            assertThat(b.images().shape()).containsExactly(3, 2, 7);
            long[] x = b.images().toLongArray();
            assertThat(java.util.Arrays.copyOfRange(x, 28, 35)).containsExactly(2, 5, 3, 6, 7, 3, 0); // third example's ids
            assertThat(java.util.Arrays.copyOfRange(x, 35, 42)).containsExactly(0, 0, 0, 1, 1, 1, 0); // and its types
            assertThat(b.labels().toLongArray()).containsExactly(1, 2, 0);
        }
    }

    @Test
    void aLabelUnknownToTrainingAndBadLinesAreNamed() throws Exception {
        Tokenizer tok = bert();
        var train = data("{\"text\": \"a\", \"label\": \"x\"}\n");
        Path test = dir.resolve("test.jsonl");
        Files.writeString(test, "{\"text\": \"a\", \"label\": \"z\"}\n");
        assertThatThrownBy(() -> TextClassificationRecipe.encode(TextClassificationDataset.read(test), train.labels(), tok, 8))
                .hasMessageContaining("test.jsonl").hasMessageContaining("\"z\"");
        Files.writeString(test, "{\"text\": \"a\", \"label\": \"x\"}\nnot json\n{\"label\": \"x\"}\n");
        assertThatThrownBy(() -> TextClassificationDataset.read(test)).hasMessageContaining("test.jsonl").hasMessageContaining("line 2")
                .hasMessageContaining("line 3");
    }
}
