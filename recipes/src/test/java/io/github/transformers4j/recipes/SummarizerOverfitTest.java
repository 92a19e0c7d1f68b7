package io.github.transformers4j.recipes;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.data.text.Seq2SeqCollator;
import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.tokenizer.BpeTrainer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.seq2seq.GenerationConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A tiny summarizer memorises a handful of pairs on the CPU in seconds: loss falls and greedy decoding reproduces a summary. */
class SummarizerOverfitTest {
    static final List<TextPair> PAIRS = List.of(
            new TextPair("a", "The GNU C library provides the standard functions such as printf and malloc.", "GNU C library"),
            new TextPair("b", "A fast web server with SSL support and URL rewriting for small machines.", "fast web server"),
            new TextPair("c", "Tools to read and convert JSON documents from the command line.", "JSON command-line tools"),
            new TextPair("d", "A real-time strategy game of ancient warfare with 3D graphics.", "strategy game"));

    @Test
    void tinyModelOverfitsAHandfulOfPairs() {
        BpeTrainer bt = new BpeTrainer(3 + 256 + 100, 1);
        PAIRS.forEach(p -> {
            bt.feed(p.document());
            bt.feed(p.summary());
        });
        Tokenizer tok = bt.train();
        Seq2SeqCollator col = new Seq2SeqCollator(tok, 64, 16);
        Seq2SeqTransformer model = new Seq2SeqTransformer(new Seq2SeqConfig(tok.vocabSize(), 64, 2, 2, 4, 128, 0.0, 64, col.padId(), col.eosId()),
                new Random4j(1));
        var opt = new AdamW(model, AdamW.options(3e-3));
        double first = 0, last = 0;
        try (Seq2SeqBatch batch = col.collate(PAIRS)) {
            for (int step = 0; step < 120; step++) {
                try (var scope = Memory.scope()) {
                    opt.zeroGrad();
                    Tensor loss = Seq2SeqTransformer.loss(model.forward(batch.inputIds(), batch.decoderInputIds()), batch.labels());
                    loss.backward();
                    opt.step();
                    if (step == 0) first = loss.item();
                    last = loss.item();
                }
            }
        }
        assertThat(first).isGreaterThan(4.0); // about log(vocab) at the start
        assertThat(last).isLessThan(0.1);
        List<String> out = SummarizationRecipe.summarize(model, tok, col, PAIRS.stream().map(TextPair::document).toList(),
                GenerationConfig.greedy(16), 4, io.github.transformers4j.tensor.Device.CPU);
        assertThat(out).containsExactlyElementsOf(PAIRS.stream().map(TextPair::summary).toList());
        List<String> beam = SummarizationRecipe.summarize(model, tok, col, PAIRS.stream().map(TextPair::document).toList(),
                GenerationConfig.beam(3, 16), 4, io.github.transformers4j.tensor.Device.CPU);
        assertThat(beam).containsExactlyElementsOf(PAIRS.stream().map(TextPair::summary).toList());
    }
}
