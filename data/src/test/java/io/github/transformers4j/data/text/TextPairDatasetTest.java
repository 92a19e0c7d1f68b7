package io.github.transformers4j.data.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextPairDatasetTest {
    @Test
    void readsXsumStyleJsonl(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("train.jsonl"), """
                {"document":"The cat sat on the mat.","summary":"Cat sits.","id":"a1"}

                {"document":"Dogs bark \\"loudly\\".\\nNew line.","summary":"Dogs bark.","id":"a2","extra":1}
                """);
        var ds = TextPairDataset.open(dir, "train", TextPairDataset.Fields.DEFAULT);
        assertThat(ds.size()).isEqualTo(2);
        assertThat(ds.get(1)).isEqualTo(new TextPair("a2", "Dogs bark \"loudly\".\nNew line.", "Dogs bark."));
    }

    @Test
    void configurableFieldNamesAndMissingFieldMessage(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.jsonl");
        Files.writeString(f, "{\"article\":\"Long text\",\"highlights\":\"Short\"}\n");
        var ds = TextPairDataset.read(f, new TextPairDataset.Fields("article", "highlights", "id"));
        assertThat(ds.get(0)).isEqualTo(new TextPair("1", "Long text", "Short"));
        assertThatThrownBy(() -> TextPairDataset.read(f, TextPairDataset.Fields.DEFAULT))
                .hasMessageContaining("x.jsonl:1").hasMessageContaining("'document'").hasMessageContaining("article");
    }

    @Test
    void readsCsvWithQuotes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("test.csv"), "id,document,summary\r\n"
                + "1,\"A, quoted \"\"doc\"\"\nover two lines\",short\r\n"
                + "2,plain,\"s\"\n");
        var ds = TextPairDataset.open(dir, "test", TextPairDataset.Fields.DEFAULT);
        assertThat(ds.pairs()).containsExactly(new TextPair("1", "A, quoted \"doc\"\nover two lines", "short"),
                new TextPair("2", "plain", "s"));
    }

    @Test
    void missingSplitNamesTheFolder(@TempDir Path dir) {
        assertThatThrownBy(() -> TextPairDataset.open(dir, "val", TextPairDataset.Fields.DEFAULT))
                .hasMessageContaining("validation.jsonl").hasMessageContaining(dir.toString());
    }
}
