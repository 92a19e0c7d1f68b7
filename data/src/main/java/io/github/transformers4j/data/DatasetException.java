package io.github.transformers4j.data;

/** A dataset could not be found or read. Messages name the file or folder and the problem. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
