package io.github.transformers4j.tensor.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class JitDirectivesTest {
    /** On HotSpot (what the build and CI run) loading VecMath adds the inlining directive, and the JVM says so. */
    @Test
    void loadingVecMathAddsTheInliningDirective() {
        assertThat(VecMath.exp(FloatVector.broadcast(FloatVector.SPECIES_PREFERRED, 0f)).lane(0)).isEqualTo(1f);
        assertThat(JitDirectives.status()).isEqualTo("1 compiler directives added");
        JitDirectives.install(); // a second call adds nothing more
        assertThat(JitDirectives.status()).isEqualTo("1 compiler directives added");
    }
}
