package io.github.transformers4j.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.transformers4j.io.RawTensor;
import io.github.transformers4j.io.SafeTensors;
import io.github.transformers4j.io.SafeTensorsFile;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptimizerBehaviourTest {

    // ------------------------------------------------------------------ a ViT-shaped module for name-based rules

    static final class Embedding extends Module {
        Embedding(int n, int d) {
            param("weight", Tensor.randn(new Random4j(1), n, d));
        }
    }

    static final class Linear extends Module {
        Linear(int in, int out) {
            param("weight", Tensor.randn(new Random4j(2), out, in));
            param("bias", Tensor.zeros(out));
        }
    }

    static final class Norm extends Module {
        Norm(int d) {
            param("weight", Tensor.ones(d));
            param("bias", Tensor.zeros(d));
        }
    }

    static final class PatchEmbed extends Module {
        PatchEmbed() {
            register("proj", new Conv());
        }
    }

    static final class Conv extends Module {
        Conv() {
            param("weight", Tensor.randn(new Random4j(3), 8, 3, 4, 4));
            param("bias", Tensor.zeros(8));
        }
    }

    static final class TinyVit extends Module {
        TinyVit() {
            register("patch_embed", new PatchEmbed());
            param("cls_token", Tensor.zeros(1, 1, 8));
            param("pos_embed", Tensor.zeros(1, 5, 8));
            register("token_embedding", new Embedding(10, 8));
            register("norm1", new Norm(8));
            register("fc1", new Linear(8, 16));
            buffer("scale_table", Tensor.ones(4, 4)); // buffers are never optimized
        }
    }

    @Test
    void weightDecaySplitPutsBiasesNormsEmbeddingsAndTokensInTheNoDecayGroup() {
        List<ParamGroup> groups = ParamGroups.weightDecaySplit(new TinyVit(), 0.05);
        assertThat(groups).hasSize(2);
        TinyVit m = new TinyVit();
        groups = ParamGroups.weightDecaySplit(m, 0.05);
        Map<Parameter, String> names = new java.util.IdentityHashMap<>();
        m.namedParameters().forEach((k, v) -> names.put(v, k));
        assertThat(groups.get(0).params().stream().map(names::get)).containsExactly("patch_embed.proj.weight", "fc1.weight");
        assertThat(groups.get(1).params().stream().map(names::get)).containsExactly(
                "cls_token", "pos_embed", "patch_embed.proj.bias", "token_embedding.weight", "norm1.weight", "norm1.bias", "fc1.bias");
        AdamW opt = new AdamW(groups, AdamW.options(1e-3));
        assertThat(opt.paramGroups().get(0).weightDecay()).isEqualTo(0.05);
        assertThat(opt.paramGroups().get(1).weightDecay()).isZero();
        assertThat(opt.paramGroups().get(1).lr()).isEqualTo(1e-3);
    }

    /** Per-group weight decay is applied per group: the no-decay group with a zero gradient does not move. */
    @Test
    void groupsUseTheirOwnOptions() {
        Parameter a = new Parameter(Tensor.of(new float[] {1, 2}, 2)), b = new Parameter(Tensor.of(new float[] {1, 2}, 2));
        AdamW opt = new AdamW(List.of(ParamGroup.of(List.of(a)), ParamGroup.of(List.of(b)).weightDecay(0).lr(0.5)), AdamW.options(0.1).weightDecay(0.1));
        a.data().setGrad(Tensor.zeros(2));
        b.data().setGrad(Tensor.zeros(2));
        opt.step();
        assertThat(a.data().toFloatArray()).containsExactly((float) (1 * (1 - 0.1 * 0.1)), (float) (2 * (1 - 0.1 * 0.1)));
        assertThat(b.data().toFloatArray()).containsExactly(1f, 2f);
    }

    @Test
    void parametersWithoutGradientAreSkippedAndGetNoState() {
        Parameter a = new Parameter(Tensor.ones(3)), b = new Parameter(Tensor.ones(3));
        SGD opt = new SGD(List.of(ParamGroup.of(List.of(a, b))), SGD.options(0.1).momentum(0.9));
        a.data().setGrad(Tensor.ones(3));
        opt.step();
        assertThat(a.data().toFloatArray()).containsExactly(0.9f, 0.9f, 0.9f);
        assertThat(b.data().toFloatArray()).containsExactly(1f, 1f, 1f);
        assertThat(opt.stepCount(b)).isZero();
        assertThat(opt.stateTensor(b, "momentum_buffer")).isNull();
        opt.zeroGrad();
        assertThat(a.grad()).isNull();
    }

    /** amsgrad (no PyTorch fixture): against PyTorch's formula written out in doubles, with a gradient that shrinks. */
    @Test
    void amsgradMatchesTheReferenceFormula() {
        double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
        for (boolean decoupled : new boolean[] {false, true}) {
            double[] p = {0.5, -1.0, 2.0}, m = new double[3], v = new double[3], vmax = new double[3];
            Parameter param = new Parameter(Tensor.of(p.clone(), 3));
            Adam.Options o = Adam.options(lr).betas(b1, b2).eps(eps).weightDecay(wd).amsgrad(true);
            Adam opt = decoupled ? new AdamW(List.of(ParamGroup.of(List.of(param))), o) : new Adam(List.of(ParamGroup.of(List.of(param))), o);
            for (int t = 1; t <= 6; t++) {
                double[] g = {3.0 / (t * t), -2.0 / t, t == 1 ? 5 : 0.01};
                param.data().setGrad(Tensor.of(g.clone(), 3));
                opt.step();
                for (int i = 0; i < 3; i++) {
                    double gi = g[i];
                    if (decoupled) p[i] *= 1 - lr * wd;
                    else gi += wd * p[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    vmax[i] = Math.max(vmax[i], v[i]);
                    double denom = Math.sqrt(vmax[i]) / Math.sqrt(1 - Math.pow(b2, t)) + eps;
                    p[i] -= lr / (1 - Math.pow(b1, t)) * m[i] / denom;
                }
                double[] got = param.data().toDoubleArray();
                for (int i = 0; i < 3; i++) assertThat(got[i]).as("decoupled " + decoupled + " step " + t + " [" + i + "]").isCloseTo(p[i], Offset.offset(1e-12));
            }
            assertThat(opt.stateTensor(param, "max_exp_avg_sq").toDoubleArray()).containsExactly(vmax, Offset.offset(1e-15));
        }
    }

    // ------------------------------------------------------------------ checkpoints

    private static List<Parameter> params(long seed) {
        return List.of(new Parameter(Tensor.randn(new Random4j(seed), 3, 4)), new Parameter(Tensor.randn(new Random4j(seed + 1), 5)),
                new Parameter(Tensor.randn(new Random4j(seed + 2), 2)));
    }

    private static void setGrads(List<Parameter> ps, int t) {
        for (int i = 0; i < ps.size(); i++) ps.get(i).data().setGrad(Tensor.randn(new Random4j(100L * t + i), ps.get(i).shape()));
    }

    private static List<ParamGroup> twoGroups(List<Parameter> ps) {
        return List.of(ParamGroup.of(ps.subList(0, 2)), ParamGroup.of(ps.subList(2, 3)).weightDecay(0));
    }

    /** Resuming from a state dict (through a safetensors file) continues exactly as the uninterrupted run. */
    @Test
    void stateDictRoundTripResumesExactly(@TempDir Path dir) throws Exception {
        List<Function<List<ParamGroup>, Optimizer>> makers = List.of(
                g -> new AdamW(g, AdamW.options(0.01).weightDecay(0.1)),
                g -> new Adam(g, Adam.options(0.01).amsgrad(true).weightDecay(0.01)),
                g -> new SGD(g, SGD.options(0.05).momentum(0.9).nesterov(true).weightDecay(0.01)));
        for (var make : makers) {
            List<Parameter> ref = params(1), resumed = params(1);
            Optimizer a = make.apply(twoGroups(ref)), b = make.apply(twoGroups(resumed));
            LrScheduler sa = new LrScheduler(a, LrSchedule.cosine(LrSchedule.Warmup.steps(2), 8, 0.001));
            LrScheduler sb = new LrScheduler(b, LrSchedule.cosine(LrSchedule.Warmup.steps(2), 8, 0.001));
            for (int t = 1; t <= 3; t++) {
                setGrads(ref, t);
                a.step();
                sa.step();
            }
            // checkpoint: parameters + optimizer + scheduler, through a file
            Path file = dir.resolve(a.getClass().getSimpleName() + ".safetensors");
            Map<String, Tensor> ckpt = new LinkedHashMap<>();
            for (int i = 0; i < ref.size(); i++) ckpt.put("model." + i, ref.get(i).data());
            a.stateDict().forEach((k, v) -> ckpt.put("optim." + k, v));
            sa.stateDict().forEach((k, v) -> ckpt.put("sched." + k, v));
            save(file, ckpt);
            Map<String, Tensor> back = load(file);
            for (int i = 0; i < resumed.size(); i++) resumed.get(i).copyFrom(back.get("model." + i));
            b.loadStateDict(prefixed(back, "optim."));
            sb.loadStateDict(prefixed(back, "sched."));
            assertThat(b.paramGroups().get(0).lr()).isEqualTo(a.paramGroups().get(0).lr());
            assertThat(b.stepCount(resumed.get(0))).isEqualTo(3);
            for (int t = 4; t <= 6; t++) {
                setGrads(ref, t);
                setGrads(resumed, t);
                a.step();
                sa.step();
                b.step();
                sb.step();
            }
            for (int i = 0; i < ref.size(); i++) {
                assertThat(resumed.get(i).data().toFloatArray()).as(a.getClass().getSimpleName() + " param " + i)
                        .containsExactly(ref.get(i).data().toFloatArray());
            }
        }
    }

    @Test
    void stateDictNamesFollowPyTorch() {
        List<Parameter> ps = params(7);
        AdamW opt = new AdamW(twoGroups(ps), AdamW.options(0.01).amsgrad(false));
        ps.get(0).data().setGrad(Tensor.ones(3, 4));
        ps.get(2).data().setGrad(Tensor.ones(2));
        opt.step();
        Map<String, Tensor> sd = opt.stateDict();
        assertThat(sd.keySet()).contains("state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.2.step", "state.2.exp_avg",
                "param_groups.0.lr", "param_groups.0.initial_lr", "param_groups.0.weight_decay", "param_groups.0.beta1",
                "param_groups.0.params", "param_groups.1.params").doesNotContain("state.1.step");
        assertThat(sd.get("param_groups.1.params").toLongArray()).containsExactly(2);
        assertThat(sd.get("param_groups.0.params").toLongArray()).containsExactly(0, 1);
        assertThat(sd.get("param_groups.1.weight_decay").item()).isZero();
        assertThat(sd.get("state.2.step").dtype()).isEqualTo(DType.I64);
    }

    @Test
    void loadStateDictRejectsAnotherLayout() {
        List<Parameter> ps = params(8);
        AdamW a = new AdamW(twoGroups(ps), AdamW.options(0.01));
        setGrads(ps, 1);
        a.step();
        Map<String, Tensor> sd = a.stateDict();
        List<Parameter> other = List.of(new Parameter(Tensor.zeros(4, 3)), new Parameter(Tensor.zeros(5)), new Parameter(Tensor.zeros(2)));
        assertThatThrownBy(() -> new AdamW(twoGroups(other), AdamW.options(0.01)).loadStateDict(sd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("state.0.exp_avg").hasMessageContaining("[3, 4]")
                .hasMessageContaining("[4, 3]");
        assertThatThrownBy(() -> new AdamW(List.of(ParamGroup.of(ps)), AdamW.options(0.01)).loadStateDict(sd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has 2 param groups, this optimizer 1");
        assertThatThrownBy(() -> new SGD(twoGroups(params(9)), SGD.options(0.1)).loadStateDict(sd))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option");
    }

    @Test
    void invalidOptionsAreRejected() {
        List<Parameter> ps = params(10);
        assertThatThrownBy(() -> new SGD(List.of(ParamGroup.of(ps)), SGD.options(0.1).nesterov(true)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Nesterov");
        assertThatThrownBy(() -> new Adam(List.of(ParamGroup.of(ps)), Adam.options(0.1).betas(0.9, 1.0)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beta2");
        assertThatThrownBy(() -> new AdamW(List.of(ParamGroup.of(ps).set("momentum", 0.9)), AdamW.options(0.1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option 'momentum'");
        assertThatThrownBy(() -> new SGD(List.of(ParamGroup.of(ps), ParamGroup.of(ps.subList(0, 1))), SGD.options(0.1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than one param group");
        assertThatThrownBy(() -> new SGD(List.of(ParamGroup.of(ps)), SGD.options(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lr must be >= 0");
    }

    // ------------------------------------------------------------------ schedules beyond the fixtures

    @Test
    void warmupRatioCosineMinLrAndTheEnd() {
        LrSchedule.Warmup w = LrSchedule.Warmup.ratio(0.1, 95);
        assertThat(w.steps()).isEqualTo(10); // ceil(9.5), as Hugging Face
        LrSchedule s = LrSchedule.cosine(w, 110, 0.01);
        assertThat(s.lr(0, 1.0)).isZero();
        assertThat(s.lr(5, 1.0)).isCloseTo(0.5, Offset.offset(1e-15));
        assertThat(s.lr(10, 1.0)).isCloseTo(1.0, Offset.offset(1e-15));
        assertThat(s.lr(60, 1.0)).isCloseTo(0.01 + 0.99 * 0.5, Offset.offset(1e-15)); // half way: cos(pi/2) = 0
        assertThat(s.lr(110, 1.0)).isCloseTo(0.01, Offset.offset(1e-15));
        assertThat(s.lr(500, 1.0)).isCloseTo(0.01, Offset.offset(1e-15)); // stays at the minimum after the end
        LrSchedule lin = LrSchedule.linear(LrSchedule.Warmup.steps(4), 12);
        assertThat(lin.lr(8, 2.0)).isCloseTo(1.0, Offset.offset(1e-15));
        assertThat(lin.lr(20, 2.0)).isZero();
        LrSchedule c = LrSchedule.constant(LrSchedule.Warmup.steps(4));
        assertThat(c.lr(1, 2.0)).isCloseTo(0.5, Offset.offset(1e-15));
        assertThat(c.lr(1000, 2.0)).isEqualTo(2.0);
        LrSchedule st = LrSchedule.step(LrSchedule.Warmup.steps(2), 3, 0.1);
        assertThat(st.lr(2, 1.0)).isEqualTo(1.0);
        assertThat(st.lr(5, 1.0)).isCloseTo(0.1, Offset.offset(1e-15));
        assertThatThrownBy(() -> LrSchedule.cosine(LrSchedule.Warmup.steps(20), 10, 0)).hasMessageContaining("warmup 20, total 10");
    }

    @Test
    void clipGradNormLeavesSmallGradientsAloneAndReportsTheNorm() {
        Parameter a = new Parameter(Tensor.zeros(2)), b = new Parameter(Tensor.zeros(1)), none = new Parameter(Tensor.zeros(3));
        a.data().setGrad(Tensor.of(new float[] {3, 0}, 2));
        b.data().setGrad(Tensor.of(new float[] {4}, 1));
        assertThat(GradClip.clipGradNorm(List.of(a, b, none), 10)).isCloseTo(5.0, Offset.offset(1e-6));
        assertThat(a.grad().toFloatArray()).containsExactly(3f, 0f);
        assertThat(GradClip.clipGradNorm(List.of(a, b, none), 1)).isCloseTo(5.0, Offset.offset(1e-6));
        assertThat(a.grad().toFloatArray()[0]).isCloseTo((float) (3 / (5 + 1e-6)), Offset.offset(1e-7f));
        assertThat(b.grad().toFloatArray()[0]).isCloseTo((float) (4 / (5 + 1e-6)), Offset.offset(1e-7f));
        assertThat(none.grad()).isNull();
    }

    // ------------------------------------------------------------------ helpers

    private static Map<String, Tensor> prefixed(Map<String, Tensor> m, String prefix) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v);
        });
        return out;
    }

    private static void save(Path file, Map<String, Tensor> tensors) throws Exception {
        Map<String, RawTensor> raw = new LinkedHashMap<>();
        tensors.forEach((k, t) -> raw.put(k, RawTensor.of(t.dtype().name(), Arrays.stream(t.shape()).asLongStream().toArray(), t.toBytes())));
        SafeTensors.write(file, raw, Map.of());
    }

    private static Map<String, Tensor> load(Path file) throws Exception {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafeTensorsFile f = SafeTensors.read(file)) {
            f.tensors().forEach((k, r) -> out.put(k, Tensor.fromBytes(DType.valueOf(r.dtype()),
                    Arrays.stream(r.shape()).mapToInt(Math::toIntExact).toArray(), r.byteBuffer())));
        }
        return out;
    }

}
