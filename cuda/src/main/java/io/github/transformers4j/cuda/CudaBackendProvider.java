package io.github.transformers4j.cuda;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.Device;

/** Plugs {@link CudaBackend} into {@link Backends} for {@code Device.cuda(i)} (registered in META-INF/services). */
public final class CudaBackendProvider implements Backends.BackendProvider {
    @Override
    public Device.Type type() { return Device.Type.CUDA; }

    @Override
    public String unavailableReason() { return Cuda.unavailableReason(); }

    @Override
    public Backend create(int index) { return new CudaBackend(Cuda.device(index)); }
}
