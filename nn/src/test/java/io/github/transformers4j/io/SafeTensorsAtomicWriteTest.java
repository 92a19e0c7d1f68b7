package io.github.transformers4j.io;

import static io.github.transformers4j.io.StFiles.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsAtomicWriteTest {
    @TempDir Path dir;

    private List<Path> listing() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    /** A tensor whose memory is already freed: writing it fails with IllegalStateException when its bytes are read. */
    private static RawTensor deadTensor() {
        MemorySegment freed;
        try (Arena arena = Arena.ofConfined()) {
            freed = arena.allocate(16);
        }
        return new RawTensor("F32", new long[] {4}, freed);
    }

    /** 1 MiB of F64 sorted before the dead F32 tensor, so the failure comes after real data reached the temp file. */
    private static Map<String, RawTensor> failingMidWrite() {
        var tensors = new LinkedHashMap<String, RawTensor>();
        tensors.put("big", RawTensor.of("F64", new long[] {128 * 1024}, new byte[1 << 20]));
        tensors.put("dead", deadTensor());
        return tensors;
    }

    @Test
    void failureMidWriteLeavesTheOldFileIntactAndNoTempFile() throws Exception {
        Path target = dir.resolve("model.safetensors");
        SafeTensors.write(target, Map.of("w", RawTensor.of("U8", new long[] {3}, bytes(1, 2, 3))), Map.of("v", "old"));
        byte[] before = Files.readAllBytes(target);

        assertThatThrownBy(() -> SafeTensors.write(target, failingMidWrite(), Map.of("v", "new")))
                .isInstanceOf(IllegalStateException.class);

        assertThat(Files.readAllBytes(target)).containsExactly(before);
        assertThat(listing()).containsExactly(target);
        try (var f = SafeTensors.read(target)) {
            assertThat(f.metadata()).containsEntry("v", "old");
        }
    }

    @Test
    void failureMidWriteCreatesNoPartialTarget() throws Exception {
        Path target = dir.resolve("fresh.safetensors");
        assertThatThrownBy(() -> SafeTensors.write(target, failingMidWrite(), null)).isInstanceOf(IllegalStateException.class);
        assertThat(listing()).isEmpty();
    }

    @Test
    void missingDirectoryFailsCleanly() {
        Path target = dir.resolve("no/such/dir/x.safetensors");
        assertThatThrownBy(() -> SafeTensors.write(target, Map.of(), null)).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void overwriteReplacesTheFileAndLeavesNoTempFiles() throws Exception {
        Path target = dir.resolve("m.safetensors");
        SafeTensors.write(target, Map.of("a", RawTensor.of("U8", new long[] {1}, bytes(1))), null);
        SafeTensors.write(target, Map.of("b", RawTensor.of("I32", new long[] {1}, bytes(1, 0, 0, 0))), null);
        try (var f = SafeTensors.read(target)) {
            assertThat(f.tensors()).containsOnlyKeys("b");
        }
        assertThat(listing()).containsExactly(target);
    }

    @Test
    void concurrentReadersSeeOnlyCompleteFiles() throws Exception {
        Path target = dir.resolve("live.safetensors");
        Map<String, RawTensor> small = Map.of("x", RawTensor.of("U8", new long[] {4}, bytes(1, 2, 3, 4)));
        Map<String, RawTensor> large = Map.of("y", RawTensor.of("F32", new long[] {64 * 1024}, new byte[256 * 1024]));
        SafeTensors.write(target, small, null);

        AtomicBoolean done = new AtomicBoolean();
        List<Throwable> errors = new ArrayList<>();
        int[] reads = new int[1];
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!done.get()) {
                try (var f = SafeTensors.read(target)) {
                    assertThat(f.tensors()).satisfiesAnyOf(
                            t -> assertThat(t).containsExactlyEntriesOf(small),
                            t -> assertThat(t).containsExactlyEntriesOf(large));
                    reads[0]++;
                } catch (Throwable t) {
                    synchronized (errors) {
                        errors.add(t);
                    }
                    return;
                }
            }
        });
        for (int i = 0; i < 100; i++) SafeTensors.write(target, i % 2 == 0 ? large : small, null);
        done.set(true);
        reader.join();
        assertThat(errors).isEmpty();
        assertThat(reads[0]).isPositive();
        assertThat(listing()).containsExactly(target);
    }

    @Test
    void rewritesAFileFromItsOwnMapping() throws Exception {
        // Read, change the metadata, write back to the same path while the old mapping is still the source.
        Path target = dir.resolve("m.safetensors");
        var tensors = Map.of("a", RawTensor.of("F32", new long[] {2}, f32(1f, 2f)), "b", RawTensor.of("U8", new long[] {1}, bytes(3)));
        SafeTensors.write(target, tensors, Map.of("step", "1"));
        try (var f = SafeTensors.read(target)) {
            SafeTensors.write(target, f.tensors(), Map.of("step", "2"));
        }
        try (var f = SafeTensors.read(target)) {
            assertThat(f.tensors()).containsExactlyInAnyOrderEntriesOf(tensors);
            assertThat(f.metadata()).containsExactly(Map.entry("step", "2"));
        }
    }

    @Test
    void aMappedFileStaysValidWhenReplaced() throws Exception {
        Path target = dir.resolve("m.safetensors");
        SafeTensors.write(target, Map.of("a", RawTensor.of("U8", new long[] {2}, bytes(5, 6))), null);
        try (var old = SafeTensors.read(target)) {
            SafeTensors.write(target, Map.of("a", RawTensor.of("U8", new long[] {2}, bytes(7, 8))), null);
            assertThat(old.tensor("a").toByteArray()).containsExactly(5, 6);
            try (var now = SafeTensors.read(target)) {
                assertThat(now.tensor("a").toByteArray()).containsExactly(7, 8);
            }
        }
    }
}
