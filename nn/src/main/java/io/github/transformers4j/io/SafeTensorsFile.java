package io.github.transformers4j.io;

import java.lang.foreign.Arena;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

/**
 * A validated safetensors file: its tensors in file order (ascending data offset) and its
 * {@code __metadata__} map (empty when the file has none). Tensors read from a {@link java.nio.file.Path}
 * are slices of a memory mapping that {@link #close()} unmaps; do not use them (or their buffers) after that.
 */
public final class SafeTensorsFile implements AutoCloseable {
    private final String source;
    private final SequencedMap<String, RawTensor> tensors;
    private final Map<String, String> metadata;
    private final Arena arena; // null when the caller owns the memory

    SafeTensorsFile(String source, LinkedHashMap<String, RawTensor> tensors, Map<String, String> metadata, Arena arena) {
        this.source = source;
        this.tensors = Collections.unmodifiableSequencedMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.arena = arena;
    }

    /** The path (or buffer name) this was read from; used in error messages. */
    public String source() {
        return source;
    }

    /** Tensors by name, in file order (ascending data offset). Unmodifiable. */
    public SequencedMap<String, RawTensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} map, unmodifiable; empty when the header has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor with this name; throws naming the file and the available names if there is none. */
    public RawTensor tensor(String name) {
        RawTensor t = tensors.get(name);
        if (t == null) {
            String names = String.join(", ", tensors.sequencedKeySet().stream().limit(20).toList())
                    + (tensors.size() > 20 ? ", ..." : "");
            throw new IllegalArgumentException(source + ": no tensor '" + name + "' (has " + tensors.size() + ": " + names + ")");
        }
        return t;
    }

    /** Unmaps the file (if this object mapped it). Idempotent. */
    @Override
    public synchronized void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
