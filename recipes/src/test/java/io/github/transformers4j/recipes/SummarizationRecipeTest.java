package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.TextPairDataset;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.TrainingLoop;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summarization recipe end to end on a toy corpus: run folder, checkpoints with the tokenizer, resume, ROUGE report. */
class SummarizationRecipeTest {
    static List<TextPair> corpus(int n, int offset) {
        String[] things = {"web server", "text editor", "image viewer", "music player", "mail client", "file manager"};
        String[] langs = {"Python", "Rust", "Java", "C", "Perl", "Go"};
        List<TextPair> out = new ArrayList<>();
        for (int i = offset; i < offset + n; i++) {
            String t = things[i % things.length], l = langs[(i / things.length) % langs.length];
            out.add(new TextPair("p" + i, "This package provides a small " + t + " written in " + l + ". It is fast and simple to use.",
                    t + " in " + l));
        }
        return out;
    }

    @Test
    void trainsResumesAndReportsRouge(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        TextPairDataset.writeJsonl(data.resolve("train.jsonl"), corpus(24, 0));
        TextPairDataset.writeJsonl(data.resolve("validation.jsonl"), corpus(6, 24));
        TextPairDataset.writeJsonl(data.resolve("test.jsonl"), corpus(6, 30));
        SummarizationConfig d = SummarizationConfig.defaults("summarizer-tiny", "jsonl:" + data);
        SummarizationConfig cfg = new SummarizationConfig(d.model(), d.dataset(), null, 300, 32, 8, 1, 8, 1e-3, 0.01, 0.1, 1.0, 7, "cpu",
                2, 0, 0, 0, 4, 2, 1.0, 0, 8, "document", "summary");
        Path run = dir.resolve("run");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
        SummarizationRecipe.train(cfg, run, false, new SummarizationRecipe.Session(out, false));
        for (String f : new String[] {"config.json", "tokenizer.json", "metrics.csv", "metrics.jsonl", "train.log", "loss.png",
                "checkpoints/last.safetensors", "checkpoints/best.safetensors", "test_report.txt", "rouge.json"}) {
            assertThat(run.resolve(f)).as(f).exists();
        }
        String report = Files.readString(run.resolve("test_report.txt"));
        assertThat(report).contains("ROUGE-1", "ROUGE-L", "lead-", "reference:");

        // generated_predictions.jsonl: every test pair, and the ROUGE recomputed from the file is the printed one
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> preds = new ArrayList<>(), refs = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve(SummarizationRecipe.PREDICTIONS))) {
            var node = json.readTree(line);
            assertThat(node.get("source").asText()).startsWith("This package provides");
            preds.add(node.get("prediction").asText());
            refs.add(node.get("reference").asText());
        }
        var rougeJson = json.readTree(run.resolve("rouge.json").toFile());
        assertThat(preds).hasSize(rougeJson.get("examples").asInt()).hasSize(4); // --limit-eval 4 of the 6 test pairs
        var recomputed = new io.github.transformers4j.train.rouge.Rouge(true).corpus(preds, refs);
        var printed = rougeJson.get("model");
        assertThat(recomputed.rouge1().f1()).isEqualTo(printed.get("rouge1").asDouble());
        assertThat(recomputed.rougeL().f1()).isEqualTo(printed.get("rougeL").asDouble());
        assertThat(report).contains(recomputed.format());

        // resume to 2 epochs: continues after epoch 1 with the saved configuration
        SummarizationConfig two = new SummarizationConfig(cfg.model(), cfg.dataset(), null, 300, 32, 8, 2, 8, 1e-3, 0.01, 0.1, 1.0, 7, "cpu",
                2, 0, 0, 0, 4, 2, 1.0, 0, 8, "document", "summary");
        FitResult r = SummarizationRecipe.train(two, run, true, new SummarizationRecipe.Session(out, false));
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("resuming from");
        assertThat(r.epochs()).hasSize(0); // the saved configuration (1 epoch) wins: nothing left to run
        var epochs = MetricsLog.read(run).stream().filter(m -> m.kind().equals(MetricsRow.EPOCH)).toList();
        assertThat(epochs).hasSize(1);
        assertThat(epochs.getFirst().valLoss()).isFinite();

        // the checkpoint alone is enough to summarize and to evaluate
        var loaded = SummarizationRecipe.load(run.resolve(TrainingLoop.BEST));
        assertThat(loaded.tokenizer().vocabSize()).isEqualTo(300);
        var rep = SummarizationRecipe.evaluate(run.resolve(TrainingLoop.BEST), null, "test", 3, 1, 6, null, new SummarizationRecipe.Session(out, false));
        assertThat(rep.model().n()).isEqualTo(3);
        assertThat(rep.leadWords()).isEqualTo(4); // training summaries have 4 words ("web server in Python")
    }

    @Test
    void aTimeLimitStopsBeforeAnEpochThatWouldEndPastIt(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("data");
        TextPairDataset.writeJsonl(data.resolve("train.jsonl"), corpus(16, 0));
        TextPairDataset.writeJsonl(data.resolve("validation.jsonl"), corpus(4, 16));
        SummarizationConfig d = SummarizationConfig.defaults("summarizer-tiny", "jsonl:" + data);
        SummarizationConfig cfg = new SummarizationConfig(d.model(), d.dataset(), null, 300, 32, 8, 5, 8, 1e-3, 0.01, 0.1, 1.0, 7, "cpu",
                2, 0, 0, 0, 4, 1, 1.0, 0, 8, "document", "summary");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        // a budget of 0.001 minutes (60 ms) is spent by the first epoch: the run stops after it
        FitResult r = SummarizationRecipe.train(cfg, dir.resolve("run"), false,
                new SummarizationRecipe.Session(new PrintStream(buf, true, StandardCharsets.UTF_8), false, 0.001));
        assertThat(r.epochs()).hasSize(1);
        assertThat(r.stoppedEarly()).isTrue();
        assertThat(buf.toString(StandardCharsets.UTF_8)).contains("time limit:", "stopping after epoch 1 of 5");
        assertThat(dir.resolve("run/checkpoints/best.safetensors")).exists();
    }
}
