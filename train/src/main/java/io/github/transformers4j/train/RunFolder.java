package io.github.transformers4j.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A run folder claimed by one training process, as Hugging Face's {@code output_dir} with {@code overwrite_output_dir}:
 * a folder that already holds files is never written over by accident (an error suggests {@code --resume} or
 * {@code --overwrite}), and a lock file ({@value #LOCK}, holding the process id) stops a second process from writing
 * into the same folder while the first lives. A lock left by a process that is gone is taken over, with a note.
 * Temporary files left by an interrupted atomic write ({@code .NAME.*.tmp}) are removed when the folder is claimed.
 */
public final class RunFolder implements AutoCloseable {
    public static final String LOCK = ".t4j.lock";

    /** What to do with a folder that already holds a run. */
    public enum Mode {
        /** Refuse a folder that holds files. */
        NEW,
        /** Continue the run in it (a missing or empty folder starts a new one). */
        RESUME,
        /** Delete what it holds and start again. */
        OVERWRITE
    }

    private final Path dir;
    private final Path lock;
    private final List<String> notes;
    private final boolean created;
    private boolean closed;
    private Thread interruptHook;

    private RunFolder(Path dir, Path lock, List<String> notes, boolean created) {
        this.dir = dir;
        this.lock = lock;
        this.notes = notes;
        this.created = created;
    }

    public Path dir() { return dir; }

    /** What claiming did besides taking the folder (a stale lock taken over, temporary files removed, files deleted). */
    public List<String> notes() { return notes; }

    /**
     * Claims {@code dir} for this process (creating it). Throws IllegalArgumentException, writing nothing, when the
     * folder holds files and mode is NEW, or another live process holds it.
     */
    public static RunFolder claim(Path dir, Mode mode) {
        return claim(dir, mode, true);
    }

    /** As {@link #claim(Path, Mode)}; {@code resumable} false for commands without {@code --resume} (not suggested then). */
    public static RunFolder claim(Path dir, Mode mode, boolean resumable) {
        List<String> notes = new ArrayList<>();
        Path lock = dir.resolve(LOCK);
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException("run folder " + dir + " is a file, expected a folder");
            }
            checkLock(lock, notes);
            if (mode == Mode.NEW && holdsFiles(dir)) {
                throw new IllegalArgumentException("run folder " + dir + " already holds a run (" + listing(dir) + "): "
                        + (resumable ? "continue it with --resume, " : "") + "start it again with --overwrite (deletes it), "
                        + "or choose another --out");
            }
            boolean created = !Files.exists(dir);
            Files.createDirectories(dir);
            try {
                Files.writeString(lock, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) { // another process claimed it between the check and here
                throw new IllegalArgumentException("run folder " + dir + " is in use by another t4j process (lock file " + lock + ")");
            }
            if (mode == Mode.OVERWRITE && holdsFiles(dir)) {
                notes.add("--overwrite: deleted the earlier run in " + dir + " (" + listing(dir) + ")");
                deleteContents(dir, lock);
            }
            int tmp = removeTemporaries(dir);
            if (tmp > 0) notes.add("removed " + tmp + " temporary file(s) left by an interrupted write in " + dir);
            return new RunFolder(dir, lock, notes, created);
        } catch (IOException e) {
            throw new UncheckedIOException("run folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A lock of a live process is an error; one of a process that is gone (or unreadable) is removed with a note. */
    private static void checkLock(Path lock, List<String> notes) throws IOException {
        if (!Files.exists(lock)) return;
        String text = Files.readString(lock, StandardCharsets.UTF_8).trim();
        long pid = -1;
        try {
            pid = Long.parseLong(text);
        } catch (NumberFormatException ignored) {
            // not ours or truncated: treated as stale
        }
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalArgumentException("run folder " + lock.getParent() + " is in use by process " + pid
                    + " (lock file " + lock + "); wait for it to end or choose another --out");
        }
        Files.deleteIfExists(lock);
        notes.add("took over the lock of process " + (pid > 0 ? pid : "?") + ", which is no longer running");
    }

    private static boolean holdsFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> !p.getFileName().toString().equals(LOCK))) {
            return s.iterator().hasNext();
        }
    }

    /** The first few names in the folder, for messages. */
    private static String listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString() + (Files.isDirectory(p) ? "/" : ""))
                    .filter(n -> !n.equals(LOCK)).sorted().toList();
            return String.join(", ", names.subList(0, Math.min(5, names.size()))) + (names.size() > 5 ? ", ..." : "");
        }
    }

    private static void deleteContents(Path dir, Path keep) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir) && !p.equals(keep)) Files.delete(p);
            }
        }
    }

    private static int removeTemporaries(Path dir) throws IOException {
        int n = 0;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.filter(RunFolder::isStrayTemporary).toList()) {
                Files.delete(p);
                n++;
            }
        }
        return n;
    }

    /** AtomicFiles' temporaries: {@code .NAME.*.tmp}. */
    private static boolean isStrayTemporary(Path p) {
        String name = p.getFileName().toString();
        return name.startsWith(".") && name.endsWith(".tmp") && Files.isRegularFile(p);
    }

    /**
     * On SIGINT or SIGTERM before {@link #close()} (the JVM's shutdown hooks run then), prints {@code message} (e.g. how
     * to resume) on {@code err} and releases the lock. The last completed epoch's checkpoint is what a resume starts from;
     * a checkpoint write cut short leaves only a temporary file, removed by the next claim.
     */
    public RunFolder onInterrupt(java.io.PrintStream err, String message) {
        if (interruptHook != null) throw new IllegalStateException("RunFolder: onInterrupt was already set");
        interruptHook = new Thread(() -> {
            err.println();
            err.println(message);
            err.flush();
            try {
                Files.deleteIfExists(lock);
            } catch (IOException ignored) {
                // the next claim sees a lock of a dead process and takes it over
            }
        }, "t4j-interrupt");
        Runtime.getRuntime().addShutdownHook(interruptHook);
        return this;
    }

    /** Releases the folder (removes the lock); a folder the claim made and nothing was written to is removed too. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (interruptHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(interruptHook);
            } catch (IllegalStateException shuttingDown) {
                // closed from another shutdown hook: the hook runs anyway
            }
        }
        try {
            Files.deleteIfExists(lock);
            if (created && !holdsFiles(dir)) Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("run folder " + dir + ": cannot remove the lock " + lock, e);
        }
    }
}
