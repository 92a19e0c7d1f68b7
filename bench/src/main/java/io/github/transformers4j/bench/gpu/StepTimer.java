package io.github.transformers4j.bench.gpu;

import io.github.transformers4j.cuda.CudaBackend;
import io.github.transformers4j.cuda.CudaEvent;
import io.github.transformers4j.cuda.CudaFunction;
import java.util.Arrays;

/**
 * Times steps as the PyTorch side does: warm-up steps, then for each timed step a CUDA event before and after it
 * and a synchronisation; the figure is the median of the event-to-event times (device time, which includes any
 * time the GPU waited for the host to queue work). Also records, per step, the host time to queue it (from the
 * start of the step to its return, before the synchronisation) and the number of kernel launches.
 */
final class StepTimer {
    /** Milliseconds: median, fastest, slowest device time; median host (queueing) time; launches per step. */
    record Timing(double medianMs, double minMs, double maxMs, double hostMedianMs, long launchesPerStep) {}

    private StepTimer() {}

    static Timing time(CudaBackend backend, Runnable step, int warmup, int iters) {
        for (int i = 0; i < warmup; i++) step.run();
        backend.synchronize();
        double[] device = new double[iters], host = new double[iters];
        long launches = 0;
        try (CudaEvent a = backend.gpu().newEvent(true); CudaEvent b = backend.gpu().newEvent(true)) {
            for (int i = 0; i < iters; i++) {
                long l0 = CudaFunction.launches();
                a.record(backend.stream());
                long t0 = System.nanoTime();
                step.run();
                long t1 = System.nanoTime();
                b.record(backend.stream());
                b.synchronize();
                device[i] = b.elapsedSince(a);
                host[i] = (t1 - t0) / 1e6;
                launches = CudaFunction.launches() - l0;
            }
        }
        backend.synchronize(); // raises a device-side error of the timed steps, if any
        double[] d = device.clone();
        Arrays.sort(d);
        return new Timing(median(device), d[0], d[d.length - 1], median(host), launches);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
