package io.github.transformers4j.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class KernelArgsTest {
    @Test
    void scalarsTakeOneSlotAndStructsTheirWords() {
        KernelArgs args = KernelArgs.of().i32(7).struct(1, 2, 3).f64(0.5).ptr(0xABCDL);
        assertThat(args.size()).isEqualTo(4);
        assertThat(args.valueBytes()).isEqualTo(8 * 6);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment values = a.allocate(256, 16), pointers = a.allocate(64, 8);
            args.writeTo(values, pointers);
            long base = values.address();
            assertThat(pointers.getAtIndex(JAVA_LONG, 0)).isEqualTo(base);
            assertThat(pointers.getAtIndex(JAVA_LONG, 1)).isEqualTo(base + 8);
            assertThat(pointers.getAtIndex(JAVA_LONG, 2)).isEqualTo(base + 32);
            assertThat(pointers.getAtIndex(JAVA_LONG, 3)).isEqualTo(base + 40);
            assertThat(values.get(JAVA_INT, 0)).isEqualTo(7);
            assertThat(values.get(JAVA_LONG, 8)).isEqualTo(1);
            assertThat(values.get(JAVA_LONG, 24)).isEqualTo(3);
            assertThat(values.get(JAVA_DOUBLE, 32)).isEqualTo(0.5);
            assertThat(values.get(JAVA_LONG, 40)).isEqualTo(0xABCDL);
        }
    }
}
