package io.github.transformers4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertForMaskedLM;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "fill-mask", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Predict the masked word(s) with a BERT model from a Hugging Face model folder, as transformers' fill-mask "
                + "pipeline: for every mask token, the most likely tokens with their probabilities and the completed text."},
        footer = {"", "Example:", "  t4j fill-mask --hf models/bert-base-uncased \"The capital of France is [MASK].\""})
final class FillMaskCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--hf", required = true, paramLabel = "DIR", description = "a Hugging Face BERT (masked LM) model folder")
    Path hf;

    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "text with one or more mask tokens ([MASK])")
    List<String> texts;

    @Option(names = "--top-k", paramLabel = "K", description = "predictions per mask (default: ${DEFAULT-VALUE})")
    int topK = 5;

    @Option(names = "--json", description = "print JSON (as the pipeline's output) instead of text")
    boolean json;

    @CommandLine.Mixin
    ThreadsOption threads;

    /** One prediction for one mask: the token id, its text, its probability and the text with the mask filled. */
    record Fill(int token, String tokenStr, double score, String sequence) {}

    @Override
    public Integer call() throws Exception {
        threads.apply();
        if (topK < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--top-k must be >= 1, got " + topK);
        Tokenizer tok = AutoTokenizer.fromPretrained(hf);
        int mask = tok.findId("[MASK]", "<mask>");
        BertForMaskedLM model = HfModels.bertForMaskedLM(hf);
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode all = om.createArrayNode();
        for (String text : texts) {
            List<List<Fill>> fills = fill(model, tok, mask, text, topK);
            ArrayNode perText = all.addArray();
            for (int m = 0; m < fills.size(); m++) {
                if (!json) System.out.println(text + (fills.size() > 1 ? "  (mask " + (m + 1) + ")" : ""));
                ArrayNode perMask = fills.size() > 1 ? perText.addArray() : perText;
                for (Fill f : fills.get(m)) {
                    if (json) perMask.addObject().put("score", f.score()).put("token", f.token()).put("token_str", f.tokenStr()).put("sequence", f.sequence());
                    else System.out.printf(Locale.ROOT, "  %-16s %6.2f%%  %s%n", f.tokenStr(), 100 * f.score(), f.sequence());
                }
            }
        }
        if (json) System.out.println(om.writeValueAsString(texts.size() == 1 ? all.get(0) : all));
        return 0;
    }

    /** For each mask position of the text, the top-k tokens (softmax over the vocabulary). */
    static List<List<Fill>> fill(BertForMaskedLM model, Tokenizer tok, int mask, String text, int topK) {
        int[] ids = tok.encode(text, true);
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) if (ids[i] == mask) positions.add(i);
        if (positions.isEmpty()) throw new IllegalArgumentException("no mask token (" + tok.idToToken(mask) + ") in \"" + text + "\"");
        float[] probs;
        int v;
        try (var g = Grad.disabled()) {
            Tensor in = Tensor.ofLongs(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
            Tensor logits = model.forward(in, null, null, ModelOutput.Want.NONE).logits(); // (1, L, V)
            v = logits.size(2);
            probs = logits.softmax(-1).toFloatArray();
        }
        List<List<Fill>> out = new ArrayList<>();
        for (int pos : positions) {
            int off = pos * v;
            Integer[] order = new Integer[v];
            for (int i = 0; i < v; i++) order[i] = i;
            final float[] p = probs;
            Arrays.sort(order, (a, b) -> Float.compare(p[off + b], p[off + a]));
            List<Fill> fills = new ArrayList<>();
            for (int r = 0; r < Math.min(topK, v); r++) {
                int t = order[r];
                int[] filled = ids.clone();
                filled[pos] = t;
                fills.add(new Fill(t, tok.decode(new int[] {t}, false), p[off + t], tok.decode(filled, true)));
            }
            out.add(fills);
        }
        return out;
    }
}
