package io.github.transformers4j.bench.gpu;

import io.github.transformers4j.models.ImageClassifier;
import io.github.transformers4j.models.ModelZoo;
import io.github.transformers4j.models.seq2seq.Seq2SeqConfig;
import io.github.transformers4j.models.seq2seq.Seq2SeqTransformer;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.functional.F;
import io.github.transformers4j.nn.functional.SdpaOptions;
import io.github.transformers4j.optim.Adam;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.Optimizer;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Grad;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;

/**
 * The Java side of the workloads of {@code bench/python/torch_bench.py}: same shapes, same optimizer settings,
 * synthetic data created once on the GPU. Each step is {@code zero_grad(set_to_none)}, forward, cross-entropy,
 * backward and an AdamW step inside one {@link Memory#scope()}, with no host synchronisation. With a non-null
 * {@code autocast} (bf16) the forward pass and the loss run under {@link Autocast}, as {@code t4j train --precision bf16}.
 */
final class JavaWorkloads {
    private JavaWorkloads() {}

    /** AdamW as in the PyTorch script's classifiers: lr 1e-3, betas (0.9, 0.95), weight decay 0.05, one group. */
    static Optimizer classifierOptimizer(Module m) {
        return new AdamW(m, new Adam.Options(1e-3, 0.9, 0.95, 1e-8, 0.05, false));
    }

    static Workload classifier(String key, String title, String preset, int batch, Device device, DType autocast) {
        Random4j rng = new Random4j(0);
        ImageClassifier model = ModelZoo.preset(preset).create(32, 3, 10, rng);
        model.to(device);
        model.train();
        Optimizer opt = classifierOptimizer(model);
        Tensor x = Memory.unscoped(() -> Tensor.randn(new Random4j(1), batch, 3, 32, 32).to(device));
        Tensor y = Memory.unscoped(() -> Tensor.randint(new Random4j(2), 0, 10, batch).to(device));
        Runnable step = () -> {
            try (var s = Memory.scope()) {
                opt.zeroGrad();
                Tensor loss;
                try (var ac = Autocast.enable(autocast)) {
                    loss = F.crossEntropy(model.forward(x), y);
                }
                loss.backward();
                opt.step();
            }
        };
        return new Workload(key, title, batch, "images/s", batch, model.numParameters(), step, () -> {
            opt.zeroGrad();
            x.release();
            y.release();
            for (var p : model.parameters()) p.data().release();
        });
    }

    /** Encoder-decoder 4+4 x 512, vocabulary 32128, 512 source + 64 target tokens; AdamW lr 1e-4, weight decay 0.01. */
    static Workload seq2seq(int batch, int srcLen, int tgtLen, Device device, DType autocast) {
        return seq2seq(Seq2SeqConfig.summarizer4x512(32128, 0, 1), batch, srcLen, tgtLen, device, autocast);
    }

    static Workload seq2seq(Seq2SeqConfig config, int batch, int srcLen, int tgtLen, Device device, DType autocast) {
        int vocab = config.vocabSize();
        Random4j rng = new Random4j(0);
        Seq2SeqTransformer model = new Seq2SeqTransformer(config, rng);
        model.to(device);
        model.train();
        Optimizer opt = new AdamW(model, new Adam.Options(1e-4, 0.9, 0.999, 1e-8, 0.01, false));
        Tensor src = Memory.unscoped(() -> Tensor.randint(new Random4j(1), 1, vocab, batch, srcLen).to(device));
        Tensor tin = Memory.unscoped(() -> Tensor.randint(new Random4j(2), 1, vocab, batch, tgtLen).to(device));
        Tensor lab = Memory.unscoped(() -> Tensor.randint(new Random4j(3), 1, vocab, batch, tgtLen).to(device));
        Runnable step = () -> {
            try (var s = Memory.scope()) {
                opt.zeroGrad();
                Tensor loss;
                try (var ac = Autocast.enable(autocast)) {
                    loss = Seq2SeqTransformer.loss(model.forward(src, tin), lab);
                }
                loss.backward();
                opt.step();
            }
        };
        return new Workload("s2s", "encoder-decoder 4+4 x 512, vocab 32128, 512+64 tokens", batch, "tokens/s",
                (double) batch * (srcLen + tgtLen), model.numParameters(), step, () -> {
            opt.zeroGrad();
            src.release();
            tin.release();
            lab.release();
            for (var p : model.parameters()) p.data().release();
        });
    }

    /**
     * Attention forward + backward on q, k, v (B, H, L, D): fp32, or with {@code low} (bf16) q, k, v, gradient and
     * autocast (flash attention where the backend has it). FLOPs as PyTorch's side counts them: 12 B H L^2 D, half of
     * that when causal. {@code dropout}: p = 0.1 on the weights; {@code padding}: a key-padding mask (B, Lk) with no key
     * masked (as the s2s workload's, whose batches have no padding), so the kernel's mask path runs.
     */
    static Workload attention(int b, int h, int l, int d, boolean causal, Device device, DType low) {
        return attention(b, h, l, d, causal, false, false, device, low);
    }

    static Workload attention(int b, int h, int l, int d, boolean causal, boolean dropout, boolean padding, Device device, DType low) {
        DType dt = low == null ? DType.F32 : low;
        Tensor q = leaf(new Random4j(1), device, dt, b, h, l, d), k = leaf(new Random4j(2), device, dt, b, h, l, d),
                v = leaf(new Random4j(3), device, dt, b, h, l, d);
        Tensor g = Memory.unscoped(() -> Tensor.randn(new Random4j(4), b, h, l, d).to(dt).to(device));
        Tensor kpm = padding ? Memory.unscoped(() -> Tensor.zeros(DType.BOOL, b, l).to(device)) : null;
        SdpaOptions options = SdpaOptions.builder().isCausal(causal).dropoutP(dropout ? 0.1 : 0).keyPaddingMask(kpm).build();
        Runnable step = () -> {
            try (var s = Memory.scope()) {
                Tensor o;
                try (var ac = Autocast.enable(low)) {
                    o = F.scaledDotProductAttention(q, k, v, options).output();
                }
                o.backward(g);
                q.clearGrad();
                k.clearGrad();
                v.clearGrad();
            }
        };
        double tflop = 12.0 * b * h * (double) l * l * d / 1e12 / (causal ? 2 : 1);
        String key = "attn" + l + (causal ? "c" : "") + (dropout ? "d" : "") + (padding ? "m" : "");
        return new Workload(key, "attention fwd+bwd B" + b + " H" + h + " L" + l + " D" + d + (causal ? " causal" : "")
                + (dropout ? " dropout 0.1" : "") + (padding ? " key-padding mask" : ""), b, "TFLOP/s", tflop, 0, step, () -> {
            if (kpm != null) kpm.release();
            q.release();
            k.release();
            v.release();
            g.release();
        });
    }

    private static Tensor leaf(Random4j rng, Device device, DType dtype, int... shape) {
        return Memory.unscoped(() -> {
            try (var off = Grad.disabled()) {
                return Tensor.randn(rng, shape).to(dtype).to(device).requiresGrad(true);
            }
        });
    }
}
