package io.github.transformers4j.tensor;

/**
 * A training step that runs eagerly for its first calls, is then captured once ({@link Capture}; the capturing call
 * runs the step for real) and replayed on every later call: PyTorch's {@code torch.compile(mode="reduce-overhead")}
 * for a step whose shapes do not change. Where the device offers no capture, or the step does something a capture
 * cannot hold (a host transfer, a synchronisation, a random draw the backend cannot replay), it prints one line and
 * stays eager. Use one instance per input shape (the trainer keeps one per batch shape).
 *
 * <p>The step must write what the caller reads afterwards into tensors that outlive it (accumulators kept on the
 * device, parameters, gradients): a replay does not run the step's Java code, only the host work the step registered
 * with {@link Capture#onReplay}.
 */
public final class GraphedStep implements Runnable, AutoCloseable {
    private final Device device;
    private final Runnable step;
    private final int eagerSteps;
    private final String name;
    private long calls;
    private Capture.Graph graph;
    private boolean eagerOnly;
    private String reason = "";

    /**
     * @param eagerSteps calls that run eagerly before the capture (at least 1: optimizer state and caches are made
     *                   in an eager step)
     * @param name       what the notice calls this step ("the training step for batch [128, 3, 32, 32]")
     */
    public GraphedStep(Device device, Runnable step, int eagerSteps, String name) {
        this.device = device;
        this.step = step;
        this.eagerSteps = Math.max(1, eagerSteps);
        this.name = name;
    }

    @Override
    public void run() {
        calls++;
        if (graph != null) {
            graph.replay();
            return;
        }
        if (eagerOnly || calls <= eagerSteps) {
            step.run();
            return;
        }
        var graphs = Backends.of(device).kernel(Capture.GRAPHS, null);
        if (graphs.isEmpty()) {
            eagerOnly = true;
            reason = "no graph capture on " + device;
            step.run();
            return;
        }
        try {
            graph = graphs.get().capture(step);
        } catch (Capture.CaptureException e) {
            eagerOnly = true; // the capturing call ran the step before recording it: nothing to redo
            reason = e.getMessage();
            System.err.println("transformers4j: " + name + " runs eagerly (not captured): " + e.getMessage());
        }
    }

    /** Whether later calls replay a captured graph. */
    public boolean captured() {
        return graph != null;
    }

    /** Why the step is not captured ("" while it is, or before the capture was tried). */
    public String reason() {
        return reason;
    }

    @Override
    public void close() {
        if (graph != null) graph.close();
        graph = null;
    }
}
