package io.github.transformers4j.cli;

import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.gpt2.GPT2LMHeadModel;
import io.github.transformers4j.models.gpt2.TextGeneration;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.recipes.VisionRecipe;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Continue text with a GPT-2 model from a Hugging Face model folder (config.json, model.safetensors, tokenizer): "
                + "greedy by default, beam search with --num-beams, sampling with --do-sample (--temperature, --top-k, --top-p, --seed).",
                "Prints the prompt followed by its continuation, one per prompt."},
        footer = {"", "Example:", "  t4j generate --hf models/gpt2 --max-new-tokens 30 --do-sample --top-p 0.9 --seed 1 \"The meaning of life is\""})
final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--hf", required = true, paramLabel = "DIR", description = "a Hugging Face GPT-2 model folder")
    Path hf;

    @Parameters(arity = "1..*", paramLabel = "PROMPT", description = "the text(s) to continue")
    List<String> prompts;

    @Option(names = "--max-new-tokens", paramLabel = "N", description = "most tokens to add (default: ${DEFAULT-VALUE})")
    int maxNewTokens = 40;

    @Option(names = "--num-beams", paramLabel = "K", description = "beam search with K beams; 1 = greedy or sampling (default: ${DEFAULT-VALUE})")
    int numBeams = 1;

    @Option(names = "--do-sample", description = "sample the next token instead of taking the most likely one")
    boolean doSample;

    @Option(names = "--temperature", paramLabel = "T", description = "sampling temperature (default: ${DEFAULT-VALUE})")
    double temperature = 1.0;

    @Option(names = "--top-k", paramLabel = "K", description = "sample among the K most likely tokens; 0 = all (default: ${DEFAULT-VALUE}, as transformers)")
    int topK = 50;

    @Option(names = "--top-p", paramLabel = "P", description = "sample among the most likely tokens whose probability reaches P (default: ${DEFAULT-VALUE})")
    double topP = 1.0;

    @Option(names = "--seed", paramLabel = "N", description = "the sampling seed (default: ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(names = "--device", description = "cpu or cuda[:N] (default: ${DEFAULT-VALUE})")
    String device = "cpu";

    @CommandLine.Mixin
    ThreadsOption threads;

    @Override
    public Integer call() {
        threads.apply();
        TextGeneration.Config cfg;
        try {
            cfg = new TextGeneration.Config(maxNewTokens, numBeams, doSample, temperature, topK, topP, seed, 1, -1);
        } catch (IllegalArgumentException e) { // the record's messages, in the options' names
            String m = e.getMessage().replace("generate: ", "").replace("maxNewTokens", "--max-new-tokens").replace("numBeams", "--num-beams")
                    .replace("temperature", "--temperature").replace("topK", "--top-k").replace("topP", "--top-p");
            throw new CommandLine.ParameterException(spec.commandLine(), m.replace("sampling with beams", "--do-sample with --num-beams above 1"));
        }
        Device dev = VisionRecipe.device(device);
        Tokenizer tok = AutoTokenizer.fromPretrained(hf);
        GPT2LMHeadModel model = HfModels.gpt2LMHeadModel(hf);
        model.to(dev);
        cfg = new TextGeneration.Config(cfg.maxNewTokens(), cfg.numBeams(), cfg.doSample(), cfg.temperature(), cfg.topK(), cfg.topP(), cfg.seed(),
                cfg.lengthPenalty(), model.config().eosTokenId());
        for (String prompt : prompts) {
            int[] ids = tok.encode(prompt, true);
            if (ids.length == 0) ids = new int[] {model.config().bosTokenId()};
            int[] out = TextGeneration.generate(model, ids, cfg);
            int[] all = IntStream.concat(Arrays.stream(ids), Arrays.stream(out)).toArray();
            System.out.println(tok.decode(all, true));
        }
        return 0;
    }
}
