package io.github.transformers4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.text.TextPairDataset;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seq2seq commands through the real command line: data debian-descriptions, tokenizer train/encode, usage errors. */
class Seq2SeqCommandsTest {
    static int run(String... args) {
        return T4j.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(new StringWriter(), true));
    }

    @Test
    void buildsACorpusAndLearnsATokenizer(@TempDir Path dir) throws Exception {
        Path lists = Files.createDirectories(dir.resolve("lists"));
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 60; i++) {
            sb.append("Package: pkg").append(i).append("\nDescription-md5: 0\nDescription-en: tool number ").append(i)
                    .append("\n A small tool, number ").append(i).append(", that does one thing well.\n .\n It is written in C.\n\n");
        }
        Files.writeString(lists.resolve("x_main_i18n_Translation-en"), sb.toString());
        Path out = dir.resolve("corpus");
        assertThat(run("data", "debian-descriptions", "--lists", lists.toString(), "--out", out.toString())).isZero();
        int total = 0;
        for (String s : new String[] {"train", "validation", "test"}) total += TextPairDataset.open(out, s, TextPairDataset.Fields.DEFAULT).size();
        assertThat(total).isEqualTo(60);
        assertThat(TextPairDataset.open(out, "train", TextPairDataset.Fields.DEFAULT).get(0).document()).doesNotContain(" . ");

        Path tok = dir.resolve("tokenizer.json");
        assertThat(run("tokenizer", "train", "--corpus", "jsonl:" + out, "--vocab-size", "300", "--out", tok.toString())).isZero();
        Tokenizer t = Tokenizer.load(tok);
        assertThat(t.vocabSize()).isLessThanOrEqualTo(300);
        assertThat(t.decode(t.encode("A small tool, number 7."), true)).isEqualTo("A small tool, number 7.");
        assertThat(run("tokenizer", "encode", "--tokenizer", tok.toString(), "tool")).isZero();
    }

    @Test
    void missingTranslationFilesFailWithTheAptCommand(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int rc = T4j.run(new String[] {"data", "debian-descriptions", "--lists", dir.toString(), "--out", dir.resolve("o").toString()},
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertThat(rc).isEqualTo(1);
        assertThat(err.toString()).contains("Acquire::Languages=en");
    }

    @Test
    void seq2seqTrainingNeedsAnExistingCorpus(@TempDir Path dir) {
        StringWriter err = new StringWriter();
        int rc = T4j.run(new String[] {"train", "--model", "summarizer-tiny", "--dataset", "jsonl:" + dir.resolve("nope"), "--out",
                dir.resolve("run").toString()}, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertThat(rc).isEqualTo(1);
        assertThat(err.toString()).contains("no such folder").contains("t4j data debian-descriptions");
    }

    @Test
    void resumeRefusesChangedOptionsNamingThem() {
        var d = io.github.transformers4j.recipes.SummarizationConfig.defaults("summarizer-tiny", "jsonl:corpus");
        var asked = new io.github.transformers4j.recipes.SummarizationConfig(d.model(), d.dataset(), d.tokenizer(), d.vocabSize(),
                d.maxSourceLength(), d.maxTargetLength(), d.epochs() + 2, d.batchSize(), 0.5, d.weightDecay(), d.warmup(), d.clipGradNorm(),
                d.seed(), "cuda", d.logEvery(), d.patience(), d.workers(), d.limitTrain(), d.limitEval(), d.beamSize(), d.lengthPenalty(),
                d.noRepeatNgramSize(), d.maxGenLength(), d.documentField(), d.summaryField(), d.precision());
        // only options given on the command line count; the device may change
        assertThat(Seq2SeqTrainOptions.changedOnResume(d, asked, o -> o.equals("--lr") || o.equals("--device")))
                .containsExactly("--lr 0.5 (the run has " + d.lr() + ")");
        assertThat(Seq2SeqTrainOptions.changedOnResume(d, asked, o -> true)).hasSize(2).anyMatch(m -> m.startsWith("--epochs " + (d.epochs() + 2)));
        assertThat(Seq2SeqTrainOptions.changedOnResume(d, asked, o -> false)).isEmpty();
        // the loop's step options define the run too
        assertThat(Seq2SeqTrainOptions.changedOnResume(d, d.withSteps(4, 0, 0, 0), o -> o.equals("--gradient-accumulation")))
                .containsExactly("--gradient-accumulation 4 (the run has 1)");
    }
}
