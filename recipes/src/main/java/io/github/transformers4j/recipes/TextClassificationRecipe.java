package io.github.transformers4j.recipes;

import io.github.transformers4j.data.DataLoader;
import io.github.transformers4j.data.Dataset;
import io.github.transformers4j.data.Datasets;
import io.github.transformers4j.data.text.TextClassificationDataset;
import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.Tokenizer;
import io.github.transformers4j.data.vision.Batch;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.hf.HfImageClassifier;
import io.github.transformers4j.models.hf.HfTextClassifier;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import io.github.transformers4j.tensor.cpu.Parallel;
import io.github.transformers4j.train.FitResult;
import io.github.transformers4j.train.Optimization;
import io.github.transformers4j.train.Optimizers;
import io.github.transformers4j.train.TrainingLoop;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Fine-tunes a Hugging Face BERT folder for sequence classification ({@code t4j train --init-from hf:DIR --dataset
 * jsonl:DATA}): texts and labels from {@link TextClassificationDataset} files, the folder's tokenizer, a new head for the
 * data's labels, batches padded to their longest text. The run folder is the same as an image run's (config.json,
 * metrics, checkpoints, test report), so {@code t4j export} writes it back as a transformers folder.
 */
public final class TextClassificationRecipe {
    private TextClassificationRecipe() {}

    /** One tokenized example: ids (special tokens included, truncated), token type ids (pairs; else null), the label's index. */
    record Encoded(int[] ids, int[] types, int label) {}

    public static FitResult train(RunConfig cfg, Path runDir, boolean resume, VisionRecipe.Session session, int maxLength) {
        if (cfg.mixup() > 0 || cfg.cutmix() > 0) throw new IllegalArgumentException("--mixup and --cutmix mix images: not for text classification");
        if (cfg.dropPath() > 0) throw new IllegalArgumentException("--drop-path drops a Vision Transformer's blocks: not for text classification");
        if (cfg.ema() > 0) throw new IllegalArgumentException("--ema is for image classification (t4j train on images) so far");
        PrintStream out = session.out();
        Path hf = HfImageClassifier.folder(cfg.model());
        Path data = Path.of(cfg.dataset().startsWith("jsonl:") ? cfg.dataset().substring(6) : cfg.dataset());
        if (!Files.isDirectory(data)) throw new IllegalArgumentException(data + ": not a folder (expected train.jsonl, validation.jsonl, test.jsonl)");
        Path trainFile = TextClassificationDataset.splitFile(data, "train");
        if (trainFile == null) throw new IllegalArgumentException(data + ": no train.jsonl (lines of {\"text\": ..., \"label\": ...})");
        TextClassificationDataset train = TextClassificationDataset.read(trainFile);
        List<String> labels = train.labels();
        Tokenizer tok = AutoTokenizer.fromPretrained(hf);
        Random4j rng = new Random4j(cfg.seed());
        HfTextClassifier model = (HfTextClassifier) ModelZoo.create(cfg.model(), maxLength, 0, labels.size(), rng);
        int max = Math.min(maxLength, model.bertConfig().maxPositionEmbeddings()), pad = model.bertConfig().padTokenId();

        List<Encoded> all = encode(train, labels, tok, max);
        if (cfg.limitTrain() > 0 && cfg.limitTrain() < all.size()) all = all.subList(0, cfg.limitTrain());
        Dataset<Encoded> trainSet = Datasets.of(all), valSet = null, testSet = null;
        Path valFile = TextClassificationDataset.splitFile(data, "validation"), testFile = TextClassificationDataset.splitFile(data, "test");
        if (valFile != null) valSet = Datasets.of(encode(TextClassificationDataset.read(valFile), labels, tok, max));
        else if (cfg.valSplit() > 0) {
            int nVal = (int) Math.round(all.size() * cfg.valSplit());
            var parts = Datasets.randomSplit(trainSet, new int[] {all.size() - nVal, nVal}, cfg.seed());
            trainSet = parts.get(0);
            valSet = nVal > 0 ? parts.get(1) : null;
        }
        if (testFile != null && session.testLimit() >= 0) testSet = Datasets.of(encode(TextClassificationDataset.read(testFile), labels, tok, max));

        if (cfg.initFrom() != null) out.println("init: weights from the Hugging Face folder " + hf + "; new head for the data set's labels ("
                + String.join(", ", model.loadPretrained()) + ")");
        Device device = VisionRecipe.device(cfg.device());
        if (!device.equals(Device.CPU)) model.to(device);
        VisionRecipe.DataSpec spec = new VisionRecipe.DataSpec(cfg.dataset(), max, 0, labels, new float[0], new float[0], trainSet.size(),
                valSet == null ? 0 : valSet.size(), testSet == null ? 0 : testSet.size());
        try (var trainLoader = loader(trainSet, cfg.batchSize(), true, cfg.seed(), pad);
             var valLoader = valSet == null ? null : loader(valSet, VisionRecipe.evalBatchSize(cfg), false, 0, pad);
             var testLoader = testSet == null ? null : loader(testSet, VisionRecipe.evalBatchSize(cfg), false, 0, pad)) {
            long steps = cfg.stepsPerEpoch(trainLoader.numBatches()), total = steps * cfg.epochs(), warmup = cfg.warmupSteps(total);
            Optimization opt = Optimizers.create(model, cfg.optimizer(), cfg.lr(), cfg.weightDecay(), cfg.schedule(), warmup, total, cfg.clipGradNorm());
            String configJson = VisionRecipe.configJson(cfg, spec, model.config(), model.numParameters(), steps, total, warmup,
                    session.testLimit());
            if (!resume || !Files.isRegularFile(runDir.resolve(VisionRecipe.CONFIG))) VisionRecipe.writeConfig(runDir.resolve(VisionRecipe.CONFIG), configJson);
            out.printf(Locale.ROOT, "model: BertForSequenceClassification from %s; %,d parameters%n", hf, model.numParameters());
            out.printf(Locale.ROOT, "data: %s, %d labels (%s); %,d train / %,d val / %,d test texts, at most %d tokens%n", data, labels.size(),
                    String.join(", ", labels), spec.trainSize(), spec.valSize(), spec.testSize(), max);
            out.printf(Locale.ROOT, "training: %d epochs x %d steps of %d, %s lr %.3g (warm-up %d steps, %s), %s, %d threads%nrun folder: %s%n",
                    cfg.epochs(), steps, cfg.batchSize(), cfg.optimizer(), cfg.lr(), warmup, cfg.schedule(), device, Parallel.threads(),
                    runDir.toAbsolutePath().normalize());
            // batches have the length of their longest text: shapes vary, so steps are not captured as CUDA graphs
            TrainingLoop.Config tc = cfg.loopConfig(valLoader != null, session.progress(), session.timeLimitMinutes() * 60, false);
            String monitor = tc.monitor();
            ImageClassificationTask task = new ImageClassificationTask(model, configJson, cfg.labelSmoothing(), null, null);
            TrainingLoop<Batch> trainer = new TrainingLoop<>(task, opt, rng, runDir, tc, out).onDevice(device)
                    .precision(Autocast.parse(cfg.precision()));
            FitResult r = trainer.fit(trainLoader, valLoader, resume);
            if (!r.epochs().isEmpty())
                out.printf(Locale.ROOT, "training done: %d epochs in %.1f s; best %s %.4f at epoch %d%n", r.epochs().size(), r.seconds(), monitor,
                        r.bestValue(), r.bestEpoch());
            if (testLoader != null) task.test(trainer, testLoader, labels);
            else out.println(session.testLimit() < 0 ? "no test pass (--no-test)" : "no test.jsonl in " + data + ": skipping the test pass");
            return r;
        }
    }

    static List<Encoded> encode(TextClassificationDataset ds, List<String> labels, Tokenizer tok, int max) {
        return ds.examples().stream().map(e -> {
            int label = labels.indexOf(e.label());
            if (label < 0) throw new IllegalArgumentException(ds.file() + ": label \"" + e.label() + "\" does not occur in train.jsonl (labels: "
                    + String.join(", ", labels) + ")");
            if (e.textPair() != null) {
                var p = tok.encodePair(e.text(), e.textPair(), true, max); // truncation="longest_first"
                return new Encoded(p.ids(), p.typeIds(), label);
            }
            int[] ids = tok.encode(e.text(), true);
            if (ids.length > max) { // keep the start and the final special token ([SEP]), as truncation="longest_first" does for one text
                int last = ids[ids.length - 1];
                ids = Arrays.copyOf(ids, max);
                ids[max - 1] = last;
            }
            return new Encoded(ids, null, label);
        }).toList();
    }

    /**
     * Batches padded to their longest text with the labels (B,): ids (B, L), or for sentence pairs ids and token types
     * stacked (B, 2, L) (what {@link HfTextClassifier#forward} takes).
     */
    static DataLoader<Encoded, Batch> loader(Dataset<Encoded> ds, int batch, boolean shuffle, long seed, int pad) {
        return DataLoader.builder(ds, (List<Encoded> xs) -> {
            int l = xs.stream().mapToInt(x -> x.ids().length).max().orElse(1), b = xs.size();
            boolean pairs = xs.stream().anyMatch(x -> x.types() != null);
            long[] ids = new long[b * (pairs ? 2 : 1) * l], y = new long[b];
            for (int i = 0; i < b; i++) {
                int[] x = xs.get(i).ids(), t = xs.get(i).types();
                int row = i * (pairs ? 2 : 1) * l;
                Arrays.fill(ids, row, row + l, pad);
                for (int j = 0; j < x.length; j++) ids[row + j] = x[j];
                if (pairs && t != null) for (int j = 0; j < t.length; j++) ids[row + l + j] = t[j];
                y[i] = xs.get(i).label();
            }
            Tensor in = pairs ? Tensor.ofLongs(ids, b, 2, l) : Tensor.ofLongs(ids, b, l);
            return new Batch(in, Tensor.ofLongs(y, b));
        }).batchSize(batch).shuffle(shuffle).seed(seed).numWorkers(0).build();
    }
}
