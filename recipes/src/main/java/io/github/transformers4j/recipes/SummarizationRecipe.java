package io.github.transformers4j.recipes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.SampleRng;
import io.github.transformers4j.data.text.Seq2SeqBatch;
import io.github.transformers4j.data.text.Seq2SeqCollator;
import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.TextPairDataset;
import io.github.transformers4j.data.text.tokenizer.BpeTrainer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.models.seq2seq.GenerationConfig;
import io.github.transformers4j.models.seq2seq.Generator;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.LrSchedule;
import io.github.transformers4j.optim.ParamGroups;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.Parallel;
import io.github.transformers4j.train.AtomicFiles;
import io.github.transformers4j.train.Checkpoint;
import io.github.transformers4j.train.EarlyStopping;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.MetricsLog;
import io.github.transformers4j.train.MetricsRow;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.Plots;
import io.github.transformers4j.train.TrainingLoop;
import io.github.transformers4j.train.rouge.Rouge;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Summarization end to end, as {@code t4j train --model summarizer-...}, {@code t4j eval --metric rouge} and
 * {@code t4j summarize} run it: open a JSONL/CSV pair corpus, load or learn a tokenizer, build the encoder-decoder
 * preset, train it with AdamW and a warm-up plus linear-decay schedule through a {@link TrainingLoop} ({@link Seq2SeqTask}), then test
 * the best checkpoint: loss and token accuracy, and ROUGE-1/2/L of generated summaries next to the lead baseline
 * (the document's first N words, N = the mean word count of the training summaries).
 */
public final class SummarizationRecipe {
    public static final String TASK = "summarization", FORMAT = "transformers4j-seq2seq-run-1", TOKENIZER = "tokenizer.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SummarizationRecipe() {}

    /** @param timeLimitMinutes stop training before an epoch that would end past this wall-clock budget (0 = none) */
    public record Session(PrintStream out, boolean progress, double timeLimitMinutes, boolean cudaGraphs) {
        public Session(PrintStream out, boolean progress) {
            this(out, progress, 0, true);
        }

        public Session(PrintStream out, boolean progress, double timeLimitMinutes) {
            this(out, progress, timeLimitMinutes, true);
        }
    }

    /** The splits of a corpus folder (validation and test may be null when their files are absent). */
    public record Splits(TextPairDataset train, TextPairDataset validation, TextPairDataset test) {}

    public static Splits openData(SummarizationConfig cfg, boolean needTrain) {
        Path dir = Path.of(cfg.dataDir());
        if (!Files.isDirectory(dir))
            throw new IllegalArgumentException("--dataset " + cfg.dataset() + ": no such folder; build one with 't4j data debian-descriptions --out DIR'");
        var fields = new TextPairDataset.Fields(cfg.documentField(), cfg.summaryField(), "id");
        TextPairDataset train = needTrain ? TextPairDataset.open(dir, "train", fields) : null;
        if (train != null && cfg.limitTrain() > 0 && cfg.limitTrain() < train.size()) {
            int[] perm = new SampleRng(cfg.seed() ^ 0x5EEDL).permutation(train.size());
            List<TextPair> sub = new ArrayList<>();
            for (int i = 0; i < cfg.limitTrain(); i++) sub.add(train.get(perm[i]));
            train = new TextPairDataset(train + " (subset)", sub);
        }
        return new Splits(train, optional(dir, "validation", fields), optional(dir, "test", fields));
    }

    private static TextPairDataset optional(Path dir, String split, TextPairDataset.Fields f) {
        try {
            return TextPairDataset.open(dir, split, f);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The tokenizer of a run: given, saved in the run, beside the data, or learned on the training split. */
    static Tokenizer tokenizer(SummarizationConfig cfg, Path runDir, TextPairDataset train, PrintStream out) {
        Path saved = runDir.resolve(TOKENIZER);
        if (cfg.tokenizer() != null) return Tokenizer.load(Path.of(cfg.tokenizer()));
        if (Files.isRegularFile(saved)) return Tokenizer.load(saved);
        Path beside = Path.of(cfg.dataDir()).resolve(TOKENIZER);
        if (Files.isRegularFile(beside)) return Tokenizer.load(beside);
        out.printf(Locale.ROOT, "learning a byte-level BPE tokenizer of %,d tokens on %,d training pairs%n", cfg.vocabSize(), train.size());
        Tokenizer t = trainTokenizer(train.pairs(), cfg.vocabSize(), 2, out);
        t.save(saved);
        return t;
    }

    public static Tokenizer trainTokenizer(List<TextPair> pairs, int vocabSize, int minFrequency, PrintStream out) {
        long t0 = System.nanoTime();
        BpeTrainer trainer = new BpeTrainer(vocabSize, minFrequency);
        for (TextPair p : pairs) {
            trainer.feed(p.document());
            trainer.feed(p.summary());
        }
        Tokenizer t = trainer.train(s -> out.println("  " + s));
        out.printf(Locale.ROOT, "tokenizer: %,d tokens from %,d distinct words in %.1f s%n", t.vocabSize(), trainer.distinctWords(),
                (System.nanoTime() - t0) / 1e9);
        return t;
    }

    /** Batches of pairs of similar length (by characters), so dynamic padding wastes little: about 3x fewer padded tokens here. */
    static DataLoader<TextPair, Seq2SeqBatch> loader(TextPairDataset ds, Seq2SeqCollator c, int batch, boolean shuffle, long seed, int workers) {
        int[] chars = ds.pairs().stream().mapToInt(p -> p.document().length() + p.summary().length()).toArray();
        return DataLoader.builder(ds, c::collate).batchSize(batch).shuffle(shuffle).seed(seed).numWorkers(workers)
                .groupByLength(i -> chars[i]).build();
    }

    static Device device(String name) {
        return VisionRecipe.device(name);
    }

    // ------------------------------------------------------------------------------------------------- training

    public static FitResult train(SummarizationConfig cfg, Path runDir, boolean resume, Session session) {
        PrintStream out = session.out();
        Path configPath = runDir.resolve(VisionRecipe.CONFIG);
        if (resume && Files.isRegularFile(configPath)) {
            SummarizationConfig saved = readConfig(configPath);
            if (!saved.equals(cfg)) out.println("resume: using the run's saved configuration from " + configPath);
            cfg = saved;
        }
        Device device = device(cfg.device());
        Splits data = openData(cfg, true);
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + runDir + ": " + e.getMessage(), e);
        }
        Tokenizer tok = tokenizer(cfg, runDir, data.train(), out);
        if (!Files.isRegularFile(runDir.resolve(TOKENIZER))) tok.save(runDir.resolve(TOKENIZER));
        Seq2SeqCollator collator = new Seq2SeqCollator(tok, cfg.maxSourceLength(), cfg.maxTargetLength());
        Seq2SeqConfig mc = ModelZoo.preset(cfg.model()).seq2seqConfig(tok.vocabSize(), Math.max(cfg.maxSourceLength(), cfg.maxTargetLength()),
                collator.padId(), collator.eosId());
        Random4j rng = new Random4j(cfg.seed());
        Seq2SeqTransformer model = new Seq2SeqTransformer(mc, rng);
        if (!device.equals(Device.CPU)) model.to(device);

        int evalBatch = Math.max(cfg.batchSize(), 32);
        try (var trainLoader = loader(data.train(), collator, cfg.batchSize(), true, cfg.seed(), cfg.workers());
             var valLoader = data.validation() == null ? null : loader(data.validation(), collator, evalBatch, false, 0, cfg.workers())) {
            long steps = Math.ceilDiv(trainLoader.numBatches(), cfg.gradientAccumulation()), total = steps * cfg.epochs();
            long warmup = cfg.warmupSteps(total);
            List<Parameter> params = model.parameters();
            var opt = new AdamW(ParamGroups.weightDecaySplit(model, cfg.weightDecay()), AdamW.options(cfg.lr()).weightDecay(cfg.weightDecay()));
            Optimization optimization = Optimizers.of(opt, LrSchedule.linear(LrSchedule.Warmup.steps(Math.min(warmup, total)), total), cfg.lr(),
                    cfg.clipGradNorm(), params);
            String configJson = configJson(cfg, mc, model.numParameters(), data, steps, total, warmup);
            if (!(resume && Files.isRegularFile(configPath))) writeString(configPath, configJson);

            out.printf(Locale.ROOT, "%s: %s; %,d parameters (vocabulary %,d, %d positions)%n", cfg.model(),
                    ModelZoo.preset(cfg.model()).description(), model.numParameters(), mc.vocabSize(), mc.maxPositions());
            out.printf(Locale.ROOT, "data: %s; %,d train / %,d validation / %,d test pairs; source <= %d, target <= %d tokens%n", cfg.dataDir(),
                    data.train().size(), size(data.validation()), size(data.test()), cfg.maxSourceLength(), cfg.maxTargetLength());
            out.printf(Locale.ROOT, "training: %d epochs x %d steps of %d, adamw lr %.3g (warm-up %d steps, linear decay), weight decay %.3g, "
                            + "seed %d, %s, %s, %d threads%nrun folder: %s%n", cfg.epochs(), steps, cfg.batchSize(), cfg.lr(), warmup, cfg.weightDecay(),
                    cfg.seed(), device, cfg.precision(), Parallel.threads(), runDir.toAbsolutePath().normalize());

            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("task", TASK);
            meta.put("config", configJson);
            meta.put("tokenizer", tok.toJson());
            String monitor = valLoader == null ? "train_loss" : "val_loss";
            TrainingLoop.Config tc = TrainingLoop.Config.builder().epochs(cfg.epochs()).logEvery(cfg.logEvery()).progress(session.progress())
                    .monitor(monitor, EarlyStopping.Mode.MIN).patience(cfg.patience()).timeLimitSeconds(session.timeLimitMinutes() * 60)
                    .gradientAccumulation(cfg.gradientAccumulation()).evalSteps(cfg.evalSteps()).saveSteps(cfg.saveSteps())
                    .saveTotalLimit(cfg.saveTotalLimit()).cudaGraphs(session.cudaGraphs()).build();
            TrainingLoop<Seq2SeqBatch> trainer = new TrainingLoop<>(new Seq2SeqTask(model, meta), optimization, rng, runDir, tc, out)
                    .onDevice(device).precision(Autocast.parse(cfg.precision()));
            FitResult r = trainer.fit(trainLoader, valLoader, resume);
            out.printf(Locale.ROOT, "training done: %d epochs in %.1f s; best %s %.4f at epoch %d%n", r.epochs().size(), r.seconds(), monitor,
                    r.bestValue(), r.bestEpoch());
            if (data.test() != null) test(runDir, cfg, model, tok, collator, data, device, trainer.globalStep(), out);
            else out.println("no test split: skipping the test pass");
            return r;
        }
    }

    private static int size(TextPairDataset d) {
        return d == null ? 0 : d.size();
    }

    /** Loads the best checkpoint, reports test loss, ROUGE and the lead baseline, and writes test_report.txt and rouge.json. */
    static void test(Path runDir, SummarizationConfig cfg, Seq2SeqTransformer model, Tokenizer tok, Seq2SeqCollator collator, Splits data,
                     Device device, long step, PrintStream out) {
        Path best = runDir.resolve(TrainingLoop.BEST);
        int epoch = 0;
        if (Files.isRegularFile(best)) {
            Checkpoint ck = Checkpoint.load(best);
            model.loadStateDict(ck.model(), true);
            epoch = ck.epoch();
        }
        Report rep = report(model, tok, collator, cfg, data.test(), data.train(), device, "best checkpoint (epoch " + epoch + "), test split");
        out.println(rep.text());
        writeString(runDir.resolve("test_report.txt"), rep.text() + "\n");
        writeString(runDir.resolve("rouge.json"), rep.json());
        writeString(runDir.resolve(PREDICTIONS), rep.predictionsJsonl());
        try (MetricsLog log = MetricsLog.appendTo(runDir)) {
            log.log(MetricsRow.test(epoch, step, rep.eval().loss(), rep.eval().tokenAccuracy()), Map.of("rouge1", rep.model().rouge1().f1(),
                    "rouge2", rep.model().rouge2().f1(), "rougeL", rep.model().rougeL().f1(), "lead_rougeL", rep.lead().rougeL().f1()));
            log.text("test/report", step, "```\n" + rep.text() + "\n```"); // ROUGE and sample summaries
        }
        try {
            Plots.writeRunPlots(runDir);
        } catch (RuntimeException | Error e) {
            out.println("warning: plots not written: " + e);
        }
    }

    /**
     * What an evaluation reports: loss, model ROUGE, lead ROUGE, samples; and every generated summary as JSON lines
     * ({@code id, source, reference, prediction}), as Hugging Face's {@code generated_predictions}, so the ROUGE can be
     * recomputed from the file.
     */
    public record Report(Seq2SeqTask.Evaluation eval, Rouge.Corpus model, Rouge.Corpus lead, int leadWords, String text, String json,
                         String predictionsJsonl) {}

    /** The test split's generated summaries in the run folder. */
    public static final String PREDICTIONS = "generated_predictions.jsonl";

    static Report report(Seq2SeqTransformer model, Tokenizer tok, Seq2SeqCollator collator, SummarizationConfig cfg, TextPairDataset split,
                         TextPairDataset train, Device device, String which) {
        int evalBatch = Math.max(cfg.batchSize(), 32);
        Seq2SeqTask.Evaluation ev;
        try (var loader = loader(split, collator, evalBatch, false, 0, cfg.workers())) {
            ev = Seq2SeqTask.evaluate(model, loader, device);
        }
        int n = cfg.limitEval() > 0 ? Math.min(cfg.limitEval(), split.size()) : split.size();
        List<TextPair> pairs = split.pairs().subList(0, n);
        GenerationConfig gen = new GenerationConfig(cfg.maxGenLength(), 0, cfg.beamSize(), cfg.lengthPenalty(), cfg.noRepeatNgramSize(), true);
        long t0 = System.nanoTime();
        List<String> predictions = summarize(model, tok, collator, pairs.stream().map(TextPair::document).toList(), gen, evalBatch, device);
        double genSeconds = (System.nanoTime() - t0) / 1e9;
        List<String> refs = pairs.stream().map(TextPair::summary).toList();
        // Lead baseline: N = mean word count of the reference summaries of the training split (no peeking at the test set).
        List<TextPair> basis = train != null ? train.pairs() : split.pairs();
        int leadWords = (int) Math.max(1, Math.round(basis.stream().mapToInt(p -> words(p.summary())).average().orElse(10)));
        List<String> leads = pairs.stream().map(p -> Rouge.lead(p.document(), leadWords)).toList();
        Rouge rouge = new Rouge(true);
        Rouge.Corpus m = rouge.corpus(predictions, refs), l = rouge.corpus(leads, refs);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "test: %s%nloss %.4f  token accuracy %.2f%%  (%,d tokens)%n", which, ev.loss(), 100 * ev.tokenAccuracy(),
                ev.tokens()));
        sb.append(String.format(Locale.ROOT, "generation: %s, beam %d, length penalty %.2f, no-repeat %d-grams, max %d tokens; %d summaries in %.1f s%n",
                cfg.beamSize() == 1 ? "greedy" : "beam search", cfg.beamSize(), cfg.lengthPenalty(), cfg.noRepeatNgramSize(), cfg.maxGenLength(), n, genSeconds));
        sb.append("model:                  ").append(m.format()).append('\n');
        sb.append(String.format(Locale.ROOT, "lead-%-2d baseline:       ", leadWords)).append(l.format()).append('\n');
        sb.append("(ROUGE with Porter stemming; lead = the document's first N words, N = mean training summary length)\n\nsamples:\n");
        for (int i = 0; i < Math.min(8, n); i++) {
            sb.append(String.format(Locale.ROOT, "- [%s]%n  reference: %s%n  model:     %s%n  lead:      %s%n", pairs.get(i).id(), refs.get(i),
                    predictions.get(i), leads.get(i)));
        }
        ObjectNode j = JSON.createObjectNode();
        j.put("which", which);
        j.put("loss", ev.loss());
        j.put("token_accuracy", ev.tokenAccuracy());
        j.put("examples", n);
        j.put("lead_words", leadWords);
        putRouge(j.putObject("model"), m);
        putRouge(j.putObject("lead"), l);
        var samples = j.putArray("samples");
        for (int i = 0; i < Math.min(20, n); i++) {
            samples.addObject().put("id", pairs.get(i).id()).put("reference", refs.get(i)).put("model", predictions.get(i)).put("lead", leads.get(i));
        }
        String json;
        StringBuilder lines = new StringBuilder();
        try {
            json = JSON.writeValueAsString(j) + "\n";
            var oneLine = JSON.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
            for (int i = 0; i < n; i++) {
                lines.append(oneLine.writeValueAsString(JSON.createObjectNode().put("id", pairs.get(i).id()).put("source", pairs.get(i).document())
                        .put("reference", refs.get(i)).put("prediction", predictions.get(i)))).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Report(ev, m, l, leadWords, sb.toString().stripTrailing(), json, lines.toString());
    }

    private static void putRouge(ObjectNode o, Rouge.Corpus c) {
        o.put("rouge1", c.rouge1().f1());
        o.put("rouge2", c.rouge2().f1());
        o.put("rougeL", c.rougeL().f1());
    }

    static int words(String s) {
        String t = s.strip();
        return t.isEmpty() ? 0 : t.split("\\s+").length;
    }

    /** Generated summaries of documents, in order, in batches of documents of similar length. */
    public static List<String> summarize(Seq2SeqTransformer model, Tokenizer tok, Seq2SeqCollator collator, List<String> documents,
                                         GenerationConfig gen, int batch, Device device) {
        Integer[] byLength = new Integer[documents.size()];
        for (int i = 0; i < byLength.length; i++) byLength[i] = i;
        Arrays.sort(byLength, (a, b) -> Integer.compare(documents.get(b).length(), documents.get(a).length()));
        String[] out = new String[documents.size()];
        for (int start = 0; start < documents.size(); start += batch) {
            int end = Math.min(documents.size(), start + batch);
            List<String> chunk = Arrays.stream(byLength, start, end).map(documents::get).toList();
            try (var scope = Memory.scope()) {
                int[][] src = chunk.stream().map(collator::encodeSource).toArray(int[][]::new);
                int s = Arrays.stream(src).mapToInt(a -> a.length).max().orElse(1);
                long[] flat = new long[chunk.size() * s];
                Arrays.fill(flat, collator.padId());
                for (int i = 0; i < src.length; i++) for (int k = 0; k < src[i].length; k++) flat[i * s + k] = src[i][k];
                Tensor ids = Tensor.ofLongs(flat, chunk.size(), s).to(device);
                List<int[]> generated = Generator.generate(model, ids, gen);
                for (int i = 0; i < generated.size(); i++) out[byLength[start + i]] = tok.decode(generated.get(i), true).strip();
            }
        }
        return Arrays.asList(out);
    }

    // ---------------------------------------------------------------------------------------- from a checkpoint

    /** A model restored from a checkpoint, with its tokenizer and run configuration. */
    public record Loaded(Seq2SeqTransformer model, Tokenizer tokenizer, SummarizationConfig config, Seq2SeqCollator collator, int epoch) {}

    public static boolean isSummarizationCheckpoint(Path checkpoint) {
        return TASK.equals(Checkpoint.load(checkpoint).meta("task"));
    }

    public static Loaded load(Path checkpoint) {
        Checkpoint ck = Checkpoint.load(checkpoint);
        if (!TASK.equals(ck.meta("task")))
            throw new IllegalArgumentException("checkpoint " + checkpoint + " is not a summarization checkpoint (task " + ck.meta("task") + ")");
        JsonNode root = parse(ck.config());
        SummarizationConfig cfg;
        Seq2SeqConfig mc;
        try {
            cfg = JSON.treeToValue(root.get("run"), SummarizationConfig.class);
            mc = JSON.treeToValue(root.get("model"), Seq2SeqConfig.class);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint " + checkpoint + ": bad config: " + e.getMessage(), e);
        }
        Tokenizer tok = Tokenizer.fromJson(ck.require("tokenizer"));
        Seq2SeqTransformer model = new Seq2SeqTransformer(mc, new Random4j(cfg.seed()));
        model.loadStateDict(ck.model(), true);
        model.eval();
        return new Loaded(model, tok, cfg, new Seq2SeqCollator(tok, cfg.maxSourceLength(), cfg.maxTargetLength()), ck.epoch());
    }

    /**
     * ROUGE of a checkpoint on a split ({@code test}, {@code validation}/{@code val} or {@code train}) of its corpus (or of
     * {@code dataset} when given), with the lead baseline; generation options override the run's when not null.
     */
    public static Report evaluate(Path checkpoint, String dataset, String split, Integer limit, Integer beamSize, Integer maxGenLength,
                                  String deviceName, Session session) {
        Loaded l = load(checkpoint);
        SummarizationConfig c = l.config();
        c = new SummarizationConfig(c.model(), dataset != null ? dataset : c.dataset(), c.tokenizer(), c.vocabSize(), c.maxSourceLength(),
                c.maxTargetLength(), c.epochs(), c.batchSize(), c.lr(), c.weightDecay(), c.warmup(), c.clipGradNorm(), c.seed(),
                deviceName != null ? deviceName : "cpu", c.logEvery(), c.patience(), c.workers(), c.limitTrain(), limit != null ? limit : c.limitEval(),
                beamSize != null ? beamSize : c.beamSize(), c.lengthPenalty(), c.noRepeatNgramSize(), maxGenLength != null ? maxGenLength : c.maxGenLength(),
                c.documentField(), c.summaryField(), c.precision());
        Device device = device(c.device());
        if (!device.equals(Device.CPU)) l.model().to(device);
        Path dir = Path.of(c.dataDir());
        var fields = new TextPairDataset.Fields(c.documentField(), c.summaryField(), "id");
        TextPairDataset ds = TextPairDataset.open(dir, split, fields);
        TextPairDataset train = optional(dir, "train", fields);
        Report r = report(l.model(), l.tokenizer(), l.collator(), c, ds, train, device, checkpoint + " (epoch " + l.epoch() + "), " + split + " split");
        session.out().println(r.text());
        return r;
    }

    // ------------------------------------------------------------------------------------------------ config.json

    static String configJson(SummarizationConfig cfg, Seq2SeqConfig mc, long params, Splits data, long steps, long total, long warmup) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("task", TASK);
        root.set("run", JSON.valueToTree(cfg));
        root.set("model", JSON.valueToTree(mc));
        root.put("parameters", params);
        ObjectNode d = root.putObject("data");
        d.put("train", size(data.train()));
        d.put("validation", size(data.validation()));
        d.put("test", size(data.test()));
        root.put("steps_per_epoch", steps);
        root.put("total_steps", total);
        root.put("warmup_steps", warmup);
        VisionRecipe.putEnvironment(root);
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode parse(String json) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !FORMAT.equals(n.path("format").asText()))
                throw new IllegalArgumentException("not a transformers4j summarization run configuration (format " + (n == null ? null : n.path("format")) + ")");
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException("bad run configuration JSON: " + e.getMessage(), e);
        }
    }

    public static SummarizationConfig readConfig(Path configJson) {
        try {
            return JSON.treeToValue(parse(Files.readString(configJson)).get("run"), SummarizationConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
    }

    private static void writeString(Path p, String s) {
        try {
            AtomicFiles.writeString(p, s);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + p + ": " + e.getMessage(), e);
        }
    }
}
