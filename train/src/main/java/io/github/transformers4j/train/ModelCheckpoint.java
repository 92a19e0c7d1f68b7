package io.github.transformers4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Checkpoints of the run ({@link TrainingLoop#checkpoint()}: everything a resume needs), each written atomically:
 * <ul>
 *   <li>{@code checkpoints/last.safetensors} after every epoch, and every {@code saveSteps} steps when that is set
 *       (a crash then loses at most that many steps);</li>
 *   <li>{@code checkpoints/best.safetensors} after an evaluation that improved the monitored metric;</li>
 *   <li>with {@code saveSteps}, the {@code saveTotalLimit} most recent step snapshots {@code checkpoints/step-N.safetensors}
 *       (older ones are deleted; 0 keeps none, -1 all), as Hugging Face's {@code save_total_limit}.</li>
 * </ul>
 */
public final class ModelCheckpoint implements Callback {
    private final int saveSteps, saveTotalLimit;

    public ModelCheckpoint(int saveSteps, int saveTotalLimit) {
        this.saveSteps = saveSteps;
        this.saveTotalLimit = saveTotalLimit;
    }

    @Override
    public void onEvaluate(TrainingLoop<?> loop, Evaluated e) {
        // at an epoch's end the best checkpoint waits for the epoch row: it then resumes after the whole epoch
        if (e.improved() && !e.epochEnd()) save(loop, loop.checkpoint(), TrainingLoop.BEST);
    }

    @Override
    public void onEpochEnd(TrainingLoop<?> loop, EpochResult r) {
        Checkpoint ck = loop.checkpoint(); // one state, written to each file
        if (r.best()) save(loop, ck, TrainingLoop.BEST);
        save(loop, ck, TrainingLoop.LAST);
    }

    @Override
    public void onStepEnd(TrainingLoop<?> loop, long step, double loss) {
        if (saveSteps <= 0 || step % saveSteps != 0 || loop.atEpochEnd()) return;
        Checkpoint ck = loop.checkpoint();
        save(loop, ck, TrainingLoop.LAST);
        if (saveTotalLimit != 0) {
            save(loop, ck, String.format(Locale.ROOT, "checkpoints/step-%d.safetensors", step));
            if (saveTotalLimit > 0) prune(loop.runDir().resolve("checkpoints"), saveTotalLimit);
        }
    }

    private static void save(TrainingLoop<?> loop, Checkpoint ck, String file) {
        Path p = loop.runDir().resolve(file);
        ck.save(p);
        for (Callback c : loop.callbacks()) c.onSave(loop, p);
    }

    /** Deletes all but the {@code keep} newest (by step) step snapshots in {@code dir}. */
    static void prune(Path dir, int keep) {
        List<Path> snapshots = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().matches("step-\\d+\\.safetensors")).forEach(snapshots::add);
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoints: cannot list " + dir + ": " + e.getMessage(), e);
        }
        snapshots.sort((a, b) -> Long.compare(step(b), step(a)));
        for (Path old : snapshots.subList(Math.min(keep, snapshots.size()), snapshots.size())) {
            try {
                Files.deleteIfExists(old);
            } catch (IOException e) {
                throw new UncheckedIOException("checkpoints: cannot delete " + old + ": " + e.getMessage(), e);
            }
        }
    }

    private static long step(Path p) {
        String n = p.getFileName().toString();
        return Long.parseLong(n.substring(5, n.indexOf('.')));
    }
}
