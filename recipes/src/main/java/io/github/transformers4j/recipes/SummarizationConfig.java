package io.github.transformers4j.recipes;

/**
 * The options of a summarization run ({@code t4j train --model summarizer-...}); saved in config.json and in every
 * checkpoint.
 *
 * @param dataset         {@code jsonl:DIR} (or DIR): a folder with train.jsonl, validation.jsonl, test.jsonl (or .csv)
 * @param tokenizer       a tokenizer.json, or null: use DIR/tokenizer.json if present, else learn a byte-level BPE of
 *                        {@code vocabSize} tokens on the training split (saved as RUN/tokenizer.json)
 * @param warmup          fraction of all steps when below 1, else steps; then the learning rate decays linearly to 0
 * @param limitTrain      train on a seeded random subset of this many pairs (0 = all)
 * @param limitEval       generate and score ROUGE on the first this many test pairs (0 = all)
 * @param maxGenLength    most generated tokens per summary
 * @param precision       fp32, or bf16 (products with bf16 operands and fp32 accumulation; see Autocast)
 * @param gradientAccumulation micro-batches per optimizer step; evalSteps, saveSteps, saveTotalLimit: as for image runs
 *                        ({@link RunConfig}): validation and checkpoints every N steps, step snapshots kept
 */
public record SummarizationConfig(String model, String dataset, String tokenizer, int vocabSize, int maxSourceLength, int maxTargetLength,
                                  int epochs, int batchSize, double lr, double weightDecay, double warmup, double clipGradNorm, long seed,
                                  String device, int logEvery, int patience, int workers, int limitTrain, int limitEval, int beamSize,
                                  double lengthPenalty, int noRepeatNgramSize, int maxGenLength, String documentField, String summaryField,
                                  String precision, int gradientAccumulation, int evalSteps, int saveSteps, int saveTotalLimit) {
    /** A run with one micro-batch per step, evaluation and checkpoints per epoch. */
    public SummarizationConfig(String model, String dataset, String tokenizer, int vocabSize, int maxSourceLength, int maxTargetLength,
                               int epochs, int batchSize, double lr, double weightDecay, double warmup, double clipGradNorm, long seed,
                               String device, int logEvery, int patience, int workers, int limitTrain, int limitEval, int beamSize,
                               double lengthPenalty, int noRepeatNgramSize, int maxGenLength, String documentField, String summaryField,
                               String precision) {
        this(model, dataset, tokenizer, vocabSize, maxSourceLength, maxTargetLength, epochs, batchSize, lr, weightDecay, warmup, clipGradNorm,
                seed, device, logEvery, patience, workers, limitTrain, limitEval, beamSize, lengthPenalty, noRepeatNgramSize, maxGenLength,
                documentField, summaryField, precision, 1, 0, 0, 0);
    }

    /** A run in fp32. */
    public SummarizationConfig(String model, String dataset, String tokenizer, int vocabSize, int maxSourceLength, int maxTargetLength,
                               int epochs, int batchSize, double lr, double weightDecay, double warmup, double clipGradNorm, long seed,
                               String device, int logEvery, int patience, int workers, int limitTrain, int limitEval, int beamSize,
                               double lengthPenalty, int noRepeatNgramSize, int maxGenLength, String documentField, String summaryField) {
        this(model, dataset, tokenizer, vocabSize, maxSourceLength, maxTargetLength, epochs, batchSize, lr, weightDecay, warmup, clipGradNorm,
                seed, device, logEvery, patience, workers, limitTrain, limitEval, beamSize, lengthPenalty, noRepeatNgramSize, maxGenLength,
                documentField, summaryField, "fp32");
    }

    public SummarizationConfig {
        precision = precision == null ? "fp32" : precision; // configs written before the option: fp32
        io.github.transformers4j.tensor.Autocast.parse(precision);
        if (gradientAccumulation == 0) gradientAccumulation = 1; // configs written before the option
        req(gradientAccumulation >= 1 && evalSteps >= 0 && saveSteps >= 0 && saveTotalLimit >= -1,
                "--gradient-accumulation must be >= 1, --eval-steps and --save-steps >= 0, --save-total-limit >= -1");
        req(epochs > 0, "--epochs must be positive, got " + epochs);
        req(batchSize > 0, "--batch-size must be positive, got " + batchSize);
        req(lr > 0 && Double.isFinite(lr), "--lr must be positive, got " + lr);
        req(weightDecay >= 0, "--weight-decay must be >= 0, got " + weightDecay);
        req(warmup >= 0, "--warmup must be >= 0, got " + warmup);
        req(maxSourceLength >= 2 && maxTargetLength >= 2, "--max-source-length and --max-target-length must be >= 2");
        req(vocabSize >= 259, "--vocab-size must be >= 259 (3 special tokens and 256 bytes), got " + vocabSize);
        req(beamSize >= 1, "--beam-size must be >= 1, got " + beamSize);
        req(maxGenLength >= 1, "--max-gen-length must be >= 1, got " + maxGenLength);
        req(limitTrain >= 0 && limitEval >= 0, "--limit-train and --limit-eval must be >= 0");
        req(device.equals("cpu") || device.startsWith("cuda"), "--device must be cpu or cuda[:N], got '" + device + "'");
    }

    private static void req(boolean ok, String m) {
        if (!ok) throw new IllegalArgumentException(m);
    }

    /** The recipe: AdamW lr 1e-4, weight decay 0.01, 10% warm-up then linear decay; 512 source and 64 target tokens. */
    public static SummarizationConfig defaults(String model, String dataset) {
        return new SummarizationConfig(model, dataset, null, 16000, 512, 64, 10, 16, 1e-4, 0.01, 0.1, 1.0, 42, "cpu", 10, 0, 1, 0,
                1000, 4, 1.0, 3, 64, "document", "summary");
    }

    /** This run with the loop's step options. */
    public SummarizationConfig withSteps(int gradientAccumulation, int evalSteps, int saveSteps, int saveTotalLimit) {
        return new SummarizationConfig(model, dataset, tokenizer, vocabSize, maxSourceLength, maxTargetLength, epochs, batchSize, lr,
                weightDecay, warmup, clipGradNorm, seed, device, logEvery, patience, workers, limitTrain, limitEval, beamSize, lengthPenalty,
                noRepeatNgramSize, maxGenLength, documentField, summaryField, precision, gradientAccumulation, evalSteps, saveSteps,
                saveTotalLimit);
    }

    public String dataDir() {
        return dataset.startsWith("jsonl:") ? dataset.substring("jsonl:".length()) : dataset;
    }

    long warmupSteps(long total) {
        return warmup < 1 ? (long) Math.ceil(warmup * total) : Math.min((long) warmup, total);
    }
}
