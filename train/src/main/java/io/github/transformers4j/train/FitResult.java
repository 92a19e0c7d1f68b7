package io.github.transformers4j.train;

import java.util.List;

/** What {@link TrainingLoop#fit} did: the epochs run in this call (not those restored by a resume), and why it stopped. */
public record FitResult(List<EpochResult> epochs, int lastEpoch, int bestEpoch, double bestValue, boolean stoppedEarly,
                        double seconds) {}
