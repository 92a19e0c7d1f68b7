package io.github.transformers4j.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Compiled kernels on disk, named by the SHA-256 of everything that determines the binary: the source, the
 * compiler options, the target architecture and the NVRTC version. Default folder
 * {@code ~/.cache/transformers4j/kernels} ({@code $XDG_CACHE_HOME/transformers4j/kernels} where that is set);
 * {@code T4J_KERNEL_CACHE} overrides it and {@code T4J_KERNEL_CACHE=off} disables it. A cache that cannot be
 * written is skipped silently: compiling again is always correct.
 */
public final class KernelCache {
    private final Path dir;

    /** {@code dir} null: no disk cache. */
    public KernelCache(Path dir) { this.dir = dir; }

    public static KernelCache fromEnvironment() {
        return new KernelCache(defaultDir(System.getenv(), System.getProperty("user.home", "")));
    }

    static Path defaultDir(Map<String, String> env, String userHome) {
        String override = env.get("T4J_KERNEL_CACHE");
        if (override != null && !override.isBlank()) return override.equals("off") ? null : Path.of(override);
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(userHome, ".cache");
        return base.resolve("transformers4j").resolve("kernels");
    }

    public Optional<Path> dir() { return Optional.ofNullable(dir); }

    /** 64 hex digits naming one compilation. Fields are length-prefixed so no two inputs collide by concatenation. */
    public static String key(String source, List<String> options, String arch, String compilerVersion) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            update(md, source);
            update(md, String.valueOf(options.size()));
            for (String o : options) update(md, o);
            update(md, arch);
            update(md, compilerVersion);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    private static void update(MessageDigest md, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(Integer.toString(b.length).getBytes(StandardCharsets.US_ASCII));
        md.update((byte) ':');
        md.update(b);
    }

    public Path path(String key, String extension) {
        if (dir == null) throw new IllegalStateException("kernel cache disabled");
        return dir.resolve(key + "." + extension);
    }

    /** The cached binary {@code <key>.<extension>} ("cubin" or "ptx"), if present and readable. */
    public Optional<byte[]> load(String key, String extension) {
        if (dir == null) return Optional.empty();
        Path p = path(key, extension);
        try {
            return Files.isRegularFile(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes atomically (temporary file, then rename) so a concurrent reader never sees half a binary. */
    public void store(String key, String extension, byte[] image) {
        if (dir == null) return;
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, key, ".tmp");
            Files.write(tmp, image);
            try {
                Files.move(tmp, path(key, extension), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path(key, extension), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | SecurityException e) {
            // unwritable cache: the next run compiles again
        }
    }
}
