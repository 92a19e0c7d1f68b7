package io.github.transformers4j.tensor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whole-step graph capture, the role of PyTorch's CUDA graphs ({@code torch.compile(mode="reduce-overhead")}): a
 * backend that offers {@link #GRAPHS} records the device work of one training step once and replays it, so the
 * host no longer builds the autograd graph and queues hundreds of launches per step.
 *
 * <p>A captured step may not move data between host and device (no {@code item()}, no {@code Tensor.of(...)} moved
 * to the device, no synchronisation): {@link #checkHost} throws a {@link CaptureException} there, and the caller
 * ({@link GraphedStep}) falls back to eager steps. Host work that must happen for every execution of the step (the
 * optimizer's step count and learning rate, written to a device scalar) is registered with {@link #onReplay}; draws
 * from a {@link Random4j} are noted, and every replay advances the generator by the same amount and hands the
 * backend the offset shift, which its random kernels read from device memory.
 */
public final class Capture {
    private Capture() {}

    /** A recorded step. {@link #replay()} runs the registered host work, then the recorded device work. */
    public interface Graph extends AutoCloseable {
        void replay();

        @Override
        void close();
    }

    /** A backend's graph capture: runs {@code step} once for real, then records it (without running it) into a graph. */
    public interface Graphs {
        Graph capture(Runnable step);
    }

    public static final FusedOp<Graphs> GRAPHS = FusedOp.of("graph_capture", Graphs.class);

    /** Thrown when a step does something a captured step cannot (a host transfer, a synchronisation). */
    public static final class CaptureException extends IllegalStateException {
        public CaptureException(String message) {
            super(message);
        }
    }

    /** The host side of one capture: work to redo before each replay, and the generators the step drew from. */
    public static final class Session {
        private final List<Runnable> hostWork = new ArrayList<>();
        /** generator -> {first block at capture, end block at capture}. */
        private final Map<Random4j, long[]> draws = new IdentityHashMap<>();
        private boolean replayed;

        /**
         * Before a replay: advances each generator the step drew from by the span it drew at capture (the first replay
         * is the captured draw itself), runs the host work, and returns per generator seed the shift of its offsets
         * against the captured ones.
         */
        public Map<Long, Long> prepareReplay() {
            Map<Long, Long> deltas = new HashMap<>();
            for (var e : draws.entrySet()) {
                long[] span = e.getValue();
                long delta = replayed ? e.getKey().reserveBlocks(span[1] - span[0]) - span[0] : 0;
                deltas.put(e.getKey().seed(), delta);
            }
            replayed = true;
            hostWork.forEach(Runnable::run);
            return deltas;
        }

        /** The seeds the step drew from. */
        public java.util.Set<Long> seeds() {
            java.util.Set<Long> s = new java.util.HashSet<>();
            draws.keySet().forEach(r -> s.add(r.seed()));
            return s;
        }
    }

    private static final ThreadLocal<Session> ACTIVE = new ThreadLocal<>();

    /** Whether this thread is recording a step. */
    public static boolean active() {
        return ACTIVE.get() != null;
    }

    /**
     * Host work that belongs to every execution of the step: run now when not capturing; when capturing, not now but
     * before every replay. It may only do host work and uploads into tensors that outlive the step.
     */
    public static void onReplay(Runnable hostWork) {
        Session s = ACTIVE.get();
        if (s == null) hostWork.run();
        else s.hostWork.add(hostWork);
    }

    /** Throws a {@link CaptureException} naming {@code what} when this thread is recording a step. */
    public static void checkHost(String what) {
        if (ACTIVE.get() != null) {
            throw new CaptureException(what + " inside a captured step (a captured step cannot move data between host and "
                    + "device or wait for the device)");
        }
    }

    /** For backends: starts recording on this thread. */
    public static Session begin() {
        if (ACTIVE.get() != null) throw new IllegalStateException("graph capture: already capturing on this thread");
        Session s = new Session();
        ACTIVE.set(s);
        return s;
    }

    /** For backends: stops recording on this thread; throws when two generators the step drew from share a seed. */
    public static Session end() {
        Session s = ACTIVE.get();
        ACTIVE.remove();
        if (s != null && s.seeds().size() != s.draws.size()) {
            throw new CaptureException("graph capture: the step drew from two random generators with the same seed");
        }
        return s;
    }

    static void noteDraw(Random4j rng, long first, long end) {
        Session s = ACTIVE.get();
        if (s == null) return;
        long[] span = s.draws.get(rng);
        if (span == null) s.draws.put(rng, new long[] {first, end});
        else span[1] = end;
    }
}
