package io.github.transformers4j.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.github.transformers4j.nn.Choices;
import java.util.Locale;

/** The metrics that can pick the best checkpoint and drive early stopping, by their metrics.csv column. */
public enum Monitor {
    VAL_LOSS, VAL_ACC, TRAIN_LOSS, TRAIN_ACC;

    @JsonCreator
    public static Monitor parse(String name) {
        return Choices.parse(Monitor.class, name, "--monitor");
    }

    /** The column name: {@code val_loss}, ... */
    @JsonValue
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
