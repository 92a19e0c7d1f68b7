package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.Device;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class CudaBackendProviderTest {
    @Test
    void providerIsRegisteredForCuda() {
        var providers = ServiceLoader.load(Backends.BackendProvider.class).stream().map(ServiceLoader.Provider::get).toList();
        assertThat(providers).anySatisfy(p -> {
            assertThat(p).isInstanceOf(CudaBackendProvider.class);
            assertThat(p.type()).isEqualTo(Device.Type.CUDA);
        });
    }

    @Test
    void withoutAGpuAskingForCudaSaysWhatWasSearched() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present");
        assertThat(new CudaBackendProvider().unavailableReason()).isEqualTo(Cuda.unavailableReason()).doesNotContain("\n");
        assertThatThrownBy(() -> Backends.of(Device.cuda(0)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("no backend for device cuda:0: CUDA unavailable");
    }
}
