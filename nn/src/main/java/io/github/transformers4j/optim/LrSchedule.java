package io.github.transformers4j.optim;

/**
 * A learning-rate schedule: the rate for optimizer step {@code step} (counted from 0: the first update uses step
 * 0) given a group's base rate. {@link LrScheduler} applies one to an optimizer.
 *
 * <p>Warmup is linear over {@link Warmup#steps()} steps from {@code startFactor * base} (0 by default, as Hugging
 * Face's {@code get_*_schedule_with_warmup}: the first step has lr 0) up to the base rate at step
 * {@code warmup}; the main schedule then runs over the remaining {@code totalSteps - warmup} steps. With
 * {@code startFactor = 1/warmup} the result is PyTorch's {@code SequentialLR([LinearLR(1/w, 1, w),
 * CosineAnnealingLR(total - w)], [w])}.
 */
@FunctionalInterface
public interface LrSchedule {
    double lr(long step, double baseLr);

    /** Linear warmup length and starting factor; {@link #ratio} takes it as a fraction of the total steps. */
    record Warmup(long steps, double startFactor) {
        public Warmup {
            if (steps < 0) throw new IllegalArgumentException("warmup: steps must be >= 0, got " + steps);
            if (!(startFactor >= 0 && startFactor <= 1)) throw new IllegalArgumentException("warmup: startFactor must be in [0, 1], got " + startFactor);
        }

        public static Warmup none() {
            return new Warmup(0, 0);
        }

        public static Warmup steps(long steps) {
            return new Warmup(steps, 0);
        }

        /** {@code ceil(ratio * totalSteps)} steps, as Hugging Face's {@code warmup_ratio}. */
        public static Warmup ratio(double ratio, long totalSteps) {
            if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("warmup: ratio must be in [0, 1], got " + ratio);
            return new Warmup((long) Math.ceil(ratio * totalSteps), 0);
        }

        public Warmup startFactor(double f) {
            return new Warmup(steps, f);
        }

        /** Factor during warmup (step < steps). */
        double factor(long step) {
            return startFactor + (1 - startFactor) * step / (double) steps;
        }
    }

    static LrSchedule constant() {
        return constant(Warmup.none());
    }

    /** Warmup, then the base rate. */
    static LrSchedule constant(Warmup warmup) {
        return (step, base) -> step < warmup.steps() ? base * warmup.factor(step) : base;
    }

    /** torch.optim.lr_scheduler.StepLR: {@code base * gamma^(step / stepSize)}. */
    static LrSchedule step(long stepSize, double gamma) {
        return step(Warmup.none(), stepSize, gamma);
    }

    /** Warmup, then StepLR counted from the end of the warmup. */
    static LrSchedule step(Warmup warmup, long stepSize, double gamma) {
        if (stepSize <= 0) throw new IllegalArgumentException("step schedule: stepSize must be positive, got " + stepSize);
        return (step, base) -> step < warmup.steps() ? base * warmup.factor(step)
                : base * Math.pow(gamma, (step - warmup.steps()) / stepSize);
    }

    /**
     * Warmup, then half a cosine from the base rate down to {@code minLr} at {@code totalSteps}, and {@code minLr}
     * after that. With minLr 0 this is Hugging Face's {@code get_cosine_schedule_with_warmup}.
     */
    static LrSchedule cosine(Warmup warmup, long totalSteps, double minLr) {
        checkTotal("cosine", warmup, totalSteps);
        long w = warmup.steps();
        return (step, base) -> {
            if (step < w) return base * warmup.factor(step);
            double progress = Math.min(1.0, (step - w) / (double) Math.max(1, totalSteps - w));
            return minLr + (base - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
        };
    }

    static LrSchedule cosine(long totalSteps, double minLr) {
        return cosine(Warmup.none(), totalSteps, minLr);
    }

    /** Warmup, then linear decay to 0 at {@code totalSteps} (Hugging Face's {@code get_linear_schedule_with_warmup}). */
    static LrSchedule linear(Warmup warmup, long totalSteps) {
        checkTotal("linear", warmup, totalSteps);
        long w = warmup.steps();
        return (step, base) -> step < w ? base * warmup.factor(step)
                : base * Math.max(0.0, (totalSteps - step) / (double) Math.max(1, totalSteps - w));
    }

    static LrSchedule linear(long totalSteps) {
        return linear(Warmup.none(), totalSteps);
    }

    private static void checkTotal(String name, Warmup warmup, long totalSteps) {
        if (totalSteps <= 0 || warmup.steps() > totalSteps) {
            throw new IllegalArgumentException(name + " schedule: need 0 < warmup steps <= total steps, got warmup "
                    + warmup.steps() + ", total " + totalSteps);
        }
    }
}
