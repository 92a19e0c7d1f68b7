package io.github.transformers4j.train;

import io.github.transformers4j.nn.Choices;
import io.github.transformers4j.nn.Module;
import io.github.transformers4j.nn.Parameter;
import io.github.transformers4j.optim.Adam;
import io.github.transformers4j.optim.AdamW;
import io.github.transformers4j.optim.GradClip;
import io.github.transformers4j.optim.LrSchedule;
import io.github.transformers4j.optim.LrScheduler;
import io.github.transformers4j.optim.Optimizer;
import io.github.transformers4j.optim.ParamGroup;
import io.github.transformers4j.optim.ParamGroups;
import io.github.transformers4j.optim.SGD;
import io.github.transformers4j.tensor.Capture;
import io.github.transformers4j.tensor.Device;
import io.github.transformers4j.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Builds the trainer's {@link Optimization} from an {@code optim} optimizer and learning-rate schedule. */
public final class Optimizers {
    private Optimizers() {}

    /** The optimizers a run can name; in configuration files and on the command line in lower case ({@code adamw}). */
    public enum Algorithm {
        ADAMW, ADAM, SGD;

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Algorithm parse(String name) {
            return Choices.parse(Algorithm.class, name, "--optimizer");
        }

        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The learning-rate schedules after the warm-up: {@code step} is x0.1 at 1/3 and 2/3 of the run. */
    public enum Schedule {
        COSINE, LINEAR, STEP, CONSTANT;

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Schedule parse(String name) {
            return Choices.parse(Schedule.class, name, "--schedule");
        }

        @com.fasterxml.jackson.annotation.JsonValue
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** As {@link #create(Module, Algorithm, double, double, Schedule, long, long, double)}, the choices by name. */
    public static Optimization create(Module model, String optimizer, double lr, double weightDecay,
                                      String schedule, long warmupSteps, long totalSteps, double clipNorm) {
        return create(model, Algorithm.parse(optimizer), lr, weightDecay, Schedule.parse(schedule), warmupSteps, totalSteps, clipNorm);
    }

    /**
     * The optimizer over the model's parameters (SGD with momentum 0.9), with weight decay on matrices only (no decay
     * on biases, norms, the class token and positions), and the schedule after a linear warmup of {@code warmupSteps}.
     * {@code clipNorm > 0} clips the global gradient norm.
     */
    public static Optimization create(Module model, Algorithm optimizer, double lr, double weightDecay,
                                      Schedule schedule, long warmupSteps, long totalSteps, double clipNorm) {
        List<ParamGroup> groups = ParamGroups.weightDecaySplit(model, weightDecay);
        Optimizer opt = switch (optimizer) {
            case ADAMW -> new AdamW(groups, AdamW.options(lr).weightDecay(weightDecay));
            case ADAM -> new Adam(groups, Adam.options(lr).weightDecay(weightDecay));
            case SGD -> new SGD(groups, SGD.options(lr).momentum(0.9).weightDecay(weightDecay));
        };
        LrSchedule.Warmup warmup = LrSchedule.Warmup.steps(Math.min(warmupSteps, totalSteps));
        LrSchedule s = switch (schedule) {
            case COSINE -> LrSchedule.cosine(warmup, totalSteps, 0);
            case LINEAR -> LrSchedule.linear(warmup, totalSteps);
            case STEP -> LrSchedule.step(warmup, Math.max(1, (totalSteps - warmup.steps()) / 3), 0.1);
            case CONSTANT -> LrSchedule.constant(warmup);
        };
        return of(opt, s, lr, clipNorm, model.parameters());
    }

    /** Wraps an optimizer and a schedule (applied to every group's initial rate). */
    public static Optimization of(Optimizer optimizer, LrSchedule schedule, double baseLr, double clipNorm, List<Parameter> params) {
        LrScheduler scheduler = new LrScheduler(optimizer, schedule);
        return new Optimization() {
            private Tensor norm;

            @Override
            public Tensor lastGradNorm() {
                return norm;
            }

            @Override
            public double lr(long step) {
                return schedule.lr(step, baseLr);
            }

            @Override
            public void step(long step) {
                if (!Capture.active() && scheduler.currentStep() != step)
                    throw new IllegalStateException("optimizer: update " + step + " requested but the schedule is at step "
                            + scheduler.currentStep() + " (state not restored?)");
                if (clipNorm > 0) {
                    // on a GPU the norm stays there: no host synchronisation, and a captured step can hold the clip
                    boolean onCpu = params.isEmpty() || params.get(0).data().device().type() == Device.Type.CPU;
                    norm = onCpu ? Tensor.of(new double[] {GradClip.clipGradNorm(params, clipNorm)}, 1)
                            : GradClip.clipGradNormOnDevice(params, clipNorm);
                }
                optimizer.step();
                Capture.onReplay(scheduler::step); // after the optimizer's own replay work, as here
            }

            @Override
            public void zeroGrad() {
                optimizer.zeroGrad();
            }

            @Override
            public Map<String, Tensor> stateTensors() {
                Map<String, Tensor> s = new LinkedHashMap<>();
                optimizer.stateDict().forEach(s::put);
                scheduler.stateDict().forEach((k, v) -> s.put("scheduler." + k, v));
                return s;
            }

            @Override
            public String stateJson() {
                return "{\"optimizer\":\"" + optimizer.getClass().getSimpleName() + "\",\"schedule_step\":" + scheduler.currentStep() + "}";
            }

            @Override
            public void loadState(Map<String, Tensor> tensors, String json) {
                Map<String, Tensor> opt = new LinkedHashMap<>(), sched = new LinkedHashMap<>();
                tensors.forEach((k, v) -> (k.startsWith("scheduler.") ? sched : opt).put(k.replaceFirst("^scheduler\\.", ""), v));
                optimizer.loadStateDict(opt);
                scheduler.loadStateDict(sched);
            }
        };
    }
}
