package io.github.transformers4j.train;

import java.util.Map;

/**
 * Writes the loop's rows to metrics.csv, metrics.jsonl and (unless switched off) TensorBoard event files
 * ({@link MetricsLog}). A resumed run keeps the rows up to its checkpoint's step and appends after them.
 */
public final class MetricsLogger implements Callback {
    private final boolean tensorboard;
    private MetricsLog log;

    public MetricsLogger(boolean tensorboard) {
        this.tensorboard = tensorboard;
    }

    @Override
    public void onTrainBegin(TrainingLoop<?> loop) {
        log = loop.resumedAt() >= 0 ? MetricsLog.resume(loop.runDir(), loop.resumedAt(), tensorboard)
                : MetricsLog.create(loop.runDir(), tensorboard);
    }

    @Override
    public void onLog(TrainingLoop<?> loop, MetricsRow row, Map<String, Object> extra) {
        log.log(row, extra);
    }

    /** The open log (null before training begins and after it ends): for images and texts of other callbacks. */
    public MetricsLog log() {
        return log;
    }

    @Override
    public void close() {
        if (log != null) log.close();
        log = null;
    }
}
