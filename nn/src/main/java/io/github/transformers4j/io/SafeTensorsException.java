package io.github.transformers4j.io;

import java.io.IOException;

/**
 * A safetensors file (or an in-memory buffer in that format) is malformed. Every format problem the reader
 * finds is reported with this one type; its message names the source and the problem, for example
 * {@code model.safetensors: tensor 'w' data_offsets [0, 12] do not match shape [2, 2] x F32 = 16 bytes}.
 * Operating-system failures (missing file, no permission) stay plain {@link IOException}s.
 */
public final class SafeTensorsException extends IOException {
    private final String source;
    private final String problem;

    public SafeTensorsException(String source, String problem) {
        super(source + ": " + problem);
        this.source = source;
        this.problem = problem;
    }

    public SafeTensorsException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
        this.problem = problem;
    }

    /** The file (or buffer name) that was being read. */
    public String source() {
        return source;
    }

    /** The problem, without the source prefix. */
    public String problem() {
        return problem;
    }
}
