package io.github.transformers4j.optim;

import static io.github.transformers4j.nn.testing.Fixture.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.nn.testing.Fixture;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Memory;
import io.github.transformers4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Five steps of each optimizer from PyTorch's initial values and gradients (fixtures/optim/*.safetensors,
 * foreach=False): parameters after every step, and the final state tensors.
 */
class OptimizerParityTest {
    static final String[] NAMES = {"p0", "p1", "p2"};

    static Optimizer build(JsonNode c, List<ParamGroup> groups) {
        JsonNode d = c.get("param_group_defaults");
        double lr = d.get("lr").asDouble(), wd = d.get("weight_decay").asDouble();
        return switch (c.get("optimizer").asText()) {
            case "SGD" -> new SGD(groups, SGD.options(lr).momentum(d.get("momentum").asDouble())
                    .dampening(d.get("dampening").asDouble()).nesterov(d.get("nesterov").asBoolean()).weightDecay(wd));
            case "Adam", "AdamW" -> {
                Adam.Options o = Adam.options(lr).betas(d.get("betas").get(0).asDouble(), d.get("betas").get(1).asDouble())
                        .eps(d.get("eps").asDouble()).weightDecay(wd).amsgrad(d.get("amsgrad").asBoolean());
                yield c.get("optimizer").asText().equals("AdamW") ? new AdamW(groups, o) : new Adam(groups, o);
            }
            default -> throw new IllegalArgumentException(c.toString());
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "sgd_momentum", "sgd_nesterov_wd", "adam_default", "adam_wd", "adamw", "adamw_f64"})
    void fiveStepsMatchPyTorch(String name) {
        Fixture fx = Fixture.load("optim/" + name);
        JsonNode c = fx.config();
        assertThat(c.get("param_group_defaults").path("maximize").asBoolean(false)).isFalse();
        boolean f64 = fx.tensor("init.p0").dtype() == DType.F64;
        double rtol = f64 ? 1e-12 : 1e-5, atol = f64 ? 1e-14 : 1e-7;
        List<Parameter> params = new ArrayList<>();
        for (String p : NAMES) params.add(new Parameter(fx.tensor("init." + p).clone()));
        Optimizer opt = build(c, List.of(ParamGroup.of(params)));
        int steps = c.get("steps").asInt();
        for (int t = 1; t <= steps; t++) {
            // as in training: the step runs inside a memory scope; optimizer state must outlive it
            try (var scope = Memory.scope()) {
                for (int i = 0; i < NAMES.length; i++) params.get(i).data().setGrad(fx.tensor("grad." + t + "." + NAMES[i]).clone());
                opt.step();
                opt.zeroGrad();
            }
            for (int i = 0; i < NAMES.length; i++) {
                Tensor expected = fx.tensor("param." + t + "." + NAMES[i]);
                assertClose(name + " step " + t + " " + NAMES[i], params.get(i).data(), expected, rtol, atol);
            }
        }
        Map<String, Tensor> expectedState = fx.withPrefix("state.");
        int checked = 0;
        for (var e : expectedState.entrySet()) {
            String[] parts = e.getKey().split("\\.");
            Parameter p = params.get(List.of(NAMES).indexOf(parts[0]));
            if (parts[1].equals("step")) {
                assertThat((double) opt.stepCount(p)).as(e.getKey()).isEqualTo(e.getValue().item());
            } else {
                Tensor mine = opt.stateTensor(p, parts[1]);
                assertThat(mine).as("state " + e.getKey()).isNotNull();
                assertClose(name + " state." + e.getKey(), mine, e.getValue(), rtol, atol);
            }
            checked++;
        }
        assertThat(checked).isEqualTo(expectedState.size());
        if (!name.equals("sgd")) assertThat(checked).isPositive();
    }

    /** Scheduled rates against PyTorch: lr[t] is the rate optimizer step t used (scheduler.step() after each). */
    @ParameterizedTest
    @ValueSource(strings = {"sched_warmup_cosine_hf", "sched_warmup_linear_hf", "sched_step", "sched_warmup_cosine_sequential"})
    void schedulesMatchPyTorch(String name) {
        Fixture fx = Fixture.load("optim/" + name);
        JsonNode c = fx.config();
        double base = c.get("base_lr").asDouble();
        int steps = c.get("steps").asInt();
        LrSchedule schedule = switch (name) {
            case "sched_step" -> LrSchedule.step(c.get("step_size").asLong(), c.get("gamma").asDouble());
            case "sched_warmup_cosine_hf" -> LrSchedule.cosine(LrSchedule.Warmup.steps(c.get("num_warmup_steps").asLong()),
                    c.get("num_training_steps").asLong(), 0);
            case "sched_warmup_linear_hf" -> LrSchedule.linear(LrSchedule.Warmup.steps(c.get("num_warmup_steps").asLong()),
                    c.get("num_training_steps").asLong());
            case "sched_warmup_cosine_sequential" -> {
                long w = c.get("num_warmup_steps").asLong();
                yield LrSchedule.cosine(LrSchedule.Warmup.steps(w).startFactor(1.0 / w), c.get("num_training_steps").asLong(), 0);
            }
            default -> throw new IllegalArgumentException(name);
        };
        Parameter p = new Parameter(Tensor.zeros(2));
        // a second group with another base rate: schedules scale each group's own initial lr
        Parameter q = new Parameter(Tensor.zeros(2));
        SGD opt = new SGD(List.of(ParamGroup.of(List.of(p)), ParamGroup.of(List.of(q)).lr(base / 10)), SGD.options(base));
        LrScheduler sched = new LrScheduler(opt, schedule);
        double[] expected = fx.tensor("lr").toDoubleArray();
        assertThat(expected).hasSize(steps);
        for (int t = 0; t < steps; t++) {
            assertThat(opt.paramGroups().get(0).lr()).as(name + " lr[" + t + "]").isCloseTo(expected[t], org.assertj.core.data.Offset.offset(1e-15));
            assertThat(opt.paramGroups().get(1).lr()).as(name + " group 1 lr[" + t + "]")
                    .isCloseTo(expected[t] / 10, org.assertj.core.data.Offset.offset(1e-15));
            p.data().setGrad(Tensor.ones(2));
            opt.step();
            sched.step();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"clip_grad_norm", "clip_grad_norm_f64", "clip_grad_norm_noop"})
    void clipGradNormMatchesPyTorch(String name) {
        Fixture fx = Fixture.load("optim/" + name);
        boolean f64 = fx.tensor("total_norm").dtype() == DType.F64;
        Map<String, Parameter> params = new LinkedHashMap<>();
        fx.withPrefix("grad_before.").forEach((k, g) -> {
            Parameter p = new Parameter(Tensor.zerosLike(g));
            p.data().setGrad(g.clone());
            params.put(k, p);
        });
        assertThat(params).hasSize(3);
        double total = GradClip.clipGradNorm(params.values(), fx.config().get("max_norm").asDouble());
        assertThat(total).isCloseTo(fx.tensor("total_norm").item(), org.assertj.core.data.Percentage.withPercentage(f64 ? 1e-10 : 1e-4));
        params.forEach((k, p) -> assertClose(name + " grad_after." + k, p.grad(), fx.tensor("grad_after." + k), f64 ? 1e-12 : 1e-5, f64 ? 1e-14 : 1e-7));
    }
}
