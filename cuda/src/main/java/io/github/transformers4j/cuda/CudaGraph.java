package io.github.transformers4j.cuda;

/**
 * A captured and instantiated CUDA graph. Replays run the recorded kernels with the recorded arguments: the device
 * buffers they name must stay allocated (and hold the new inputs) for as long as the graph is replayed.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaDevice device;
    private final long graph;
    private final long exec;
    private boolean closed;

    CudaGraph(CudaDevice device, long graph, long exec) {
        this.device = device;
        this.graph = graph;
        this.exec = exec;
    }

    public void launch(CudaStream stream) {
        device.makeCurrent();
        Driver.graphLaunch(exec, stream.handle());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        device.makeCurrent();
        Driver.graphExecDestroy(exec);
        Driver.graphDestroy(graph);
    }
}
