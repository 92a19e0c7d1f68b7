package io.github.transformers4j.cuda;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds the CUDA shared libraries on disk: {@code libcuda.so.1} (driver API), {@code libnvrtc.so.13} (or .12) and
 * {@code libcublasLt.so.13} (or .12). Directories are searched in this order: {@code T4J_CUDA_LIB_PATH} entries,
 * {@code LD_LIBRARY_PATH} entries, the CUDA toolkit and system folders, then the {@code nvidia/<package>/lib} folders
 * of Python site-packages (pip's nvidia-* wheels). Newer sonames win over older ones wherever they are.
 *
 * @param searchDirs the directories searched, in order (whether they exist or not, so a message can list them)
 */
public record CudaLibraries(List<Path> searchDirs) {

    /**
     * One library the backend needs: a label for messages and its acceptable file names, most preferred first; and,
     * where the file name may carry no version beyond the soname (pip's wheels ship a plain {@code libcudnn.so.9}),
     * the version header that sits in {@code ../include} beside it, or null.
     */
    public record Spec(String label, List<String> fileNames, String versionHeader) {
        public Spec(String label, List<String> fileNames) {
            this(label, fileNames, null);
        }
    }

    public static final Spec DRIVER = new Spec("CUDA driver", List.of("libcuda.so.1", "libcuda.so"));
    public static final Spec NVRTC = new Spec("NVRTC", List.of("libnvrtc.so.13", "libnvrtc.so.12"));
    public static final Spec CUBLAS_LT = new Spec("cuBLASLt", List.of("libcublasLt.so.13", "libcublasLt.so.12"));
    public static final List<Spec> REQUIRED = List.of(DRIVER, NVRTC, CUBLAS_LT);
    /** Optional: cuDNN's fused attention ({@link Cudnn}); the newest copy found wins ({@link #findNewest}). */
    public static final Spec CUDNN = new Spec("cuDNN", List.of("libcudnn.so.9"), "cudnn_version.h");

    static final List<String> SYSTEM_DIRS = List.of(
            "/usr/local/cuda/lib64",
            "/usr/local/cuda/targets/x86_64-linux/lib",
            "/usr/local/nvidia/lib64",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib64",
            "/usr/lib");

    /** Paths found for every required library; {@link #missing()} names what was not found. */
    public record Found(Path driver, Path nvrtc, Path cublasLt) {}

    /** Search directories from the process environment and the usual places. */
    public static CudaLibraries fromEnvironment() {
        return fromEnvironment(System.getenv(), System.getProperty("user.home", ""));
    }

    /** Search directories from a given environment (tests pass a fake one) and home directory. */
    public static CudaLibraries fromEnvironment(Map<String, String> env, String userHome) {
        Set<Path> dirs = new LinkedHashSet<>();
        addPathList(dirs, env.get("T4J_CUDA_LIB_PATH"));
        addPathList(dirs, env.get("LD_LIBRARY_PATH"));
        for (String d : SYSTEM_DIRS) dirs.add(Path.of(d));
        dirs.addAll(pythonNvidiaLibDirs(env, userHome));
        return new CudaLibraries(List.copyOf(dirs));
    }

    /** The first existing file for {@code spec}: the preferred file name in any directory before the next name. */
    public Optional<Path> find(Spec spec) {
        for (String name : spec.fileNames()) {
            for (Path dir : searchDirs) {
                Path candidate = dir.resolve(name);
                if (Files.isRegularFile(candidate) && Files.isReadable(candidate)) return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Of every copy of {@code spec}'s first file name in the search directories, the one whose real file (symbolic
     * links followed: {@code libcudnn.so.9 -> libcudnn.so.9.19.0}) has the highest version; the earliest on a tie.
     * A machine may hold a system cuDNN and a newer one in Python's site-packages. A file name with no version beyond
     * the soname's is read through the spec's version header ({@link #version(Spec, Path)}).
     */
    public Optional<Path> findNewest(Spec spec) {
        Path best = null;
        int[] bestVersion = null;
        for (Path dir : searchDirs) {
            Path candidate = dir.resolve(spec.fileNames().getFirst());
            if (!Files.isRegularFile(candidate) || !Files.isReadable(candidate)) continue;
            int[] v = version(spec, candidate);
            if (best == null || java.util.Arrays.compare(v, bestVersion) > 0) {
                best = candidate;
                bestVersion = v;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The version of a copy of {@code spec}'s library: the numbers of its real file's name when they say more than the
     * soname, else {@code MAJOR.MINOR.PATCHLEVEL} of {@code ../include/<versionHeader>} (pip's nvidia-cudnn wheel:
     * {@code lib/libcudnn.so.9} and {@code include/cudnn_version.h}), else the soname's numbers.
     */
    static int[] version(Spec spec, Path library) {
        int[] v = version(library);
        if (v.length > 1 || spec.versionHeader() == null) return v;
        Path header = library.toAbsolutePath().getParent().resolveSibling("include").resolve(spec.versionHeader());
        int[] fromHeader = headerVersion(header);
        return fromHeader.length > 0 ? fromHeader : v;
    }

    /**
     * {MAJOR, MINOR, PATCHLEVEL} from a version header's {@code #define PREFIX_MAJOR 9} lines, the prefix being the
     * header's name up to its first '_' in capitals (cudnn_version.h: CUDNN_); {} when the file or a line is missing.
     */
    static int[] headerVersion(Path header) {
        String prefix = header.getFileName().toString().split("_")[0].toUpperCase(java.util.Locale.ROOT) + "_";
        Map<String, Integer> defines = new java.util.HashMap<>();
        try {
            for (String line : Files.readAllLines(header)) {
                String[] w = line.trim().split("\\s+");
                if (w.length >= 3 && w[0].equals("#define") && w[1].startsWith(prefix) && w[2].matches("[0-9]{1,6}")) {
                    defines.put(w[1].substring(prefix.length()), Integer.parseInt(w[2]));
                }
            }
        } catch (IOException e) {
            return new int[0];
        }
        List<String> parts = List.of("MAJOR", "MINOR", "PATCHLEVEL");
        if (!defines.keySet().containsAll(parts)) return new int[0];
        return parts.stream().mapToInt(defines::get).toArray();
    }

    /** The numbers after ".so." in the real file's name: libcudnn.so.9.19.0 -> {9, 19, 0}; {} when there are none. */
    static int[] version(Path library) {
        String name;
        try {
            name = library.toRealPath().getFileName().toString();
        } catch (IOException e) {
            name = library.getFileName().toString();
        }
        int at = name.indexOf(".so.");
        if (at < 0) return new int[0];
        return java.util.Arrays.stream(name.substring(at + 4).split("\\."))
                .mapToInt(s -> s.matches("[0-9]{1,6}") ? Integer.parseInt(s) : 0).toArray();
    }

    /** The libraries among {@link #REQUIRED} that no search directory holds. */
    public List<Spec> missing() {
        return REQUIRED.stream().filter(s -> find(s).isEmpty()).toList();
    }

    /** All three libraries, or empty when one is missing. */
    public Optional<Found> findAll() {
        var d = find(DRIVER);
        var n = find(NVRTC);
        var c = find(CUBLAS_LT);
        if (d.isEmpty() || n.isEmpty() || c.isEmpty()) return Optional.empty();
        return Optional.of(new Found(d.get(), n.get(), c.get()));
    }

    /** One line saying which libraries are missing and every directory searched. */
    public String missingMessage() {
        String names = missing().stream()
                .map(s -> s.label() + " (" + String.join(" or ", s.fileNames()) + ")")
                .collect(Collectors.joining(", "));
        String searched = searchDirs.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
        return "CUDA unavailable: not found: " + names + "; searched T4J_CUDA_LIB_PATH, LD_LIBRARY_PATH, system and "
                + "Python nvidia/*/lib folders: " + searched;
    }

    private static void addPathList(Set<Path> dirs, String list) {
        if (list == null || list.isBlank()) return;
        for (String entry : list.split(File.pathSeparator)) {
            if (!entry.isBlank()) dirs.add(Path.of(entry.trim()));
        }
    }

    /** {@code <site-packages>/nvidia/<pkg>/lib} of virtualenvs, conda, pyenv, user and system Pythons. */
    static List<Path> pythonNvidiaLibDirs(Map<String, String> env, String userHome) {
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            if (env.get(var) != null && !env.get(var).isBlank()) prefixes.add(Path.of(env.get(var)));
        }
        if (!userHome.isBlank()) {
            prefixes.add(Path.of(userHome, ".local"));
            prefixes.addAll(children(Path.of(userHome, ".pyenv", "versions")));
        }
        prefixes.add(Path.of("/usr/local"));
        prefixes.add(Path.of("/usr"));
        prefixes.add(Path.of("/opt/conda"));
        for (Path opt : children(Path.of("/opt"))) prefixes.add(opt.resolve(".venv"));

        List<Path> result = new ArrayList<>();
        for (Path prefix : prefixes) {
            for (Path pyDir : children(prefix.resolve("lib"))) {
                if (!pyDir.getFileName().toString().startsWith("python3")) continue;
                for (String site : List.of("site-packages", "dist-packages")) {
                    for (Path pkg : children(pyDir.resolve(site).resolve("nvidia"))) {
                        Path lib = pkg.resolve("lib");
                        if (Files.isDirectory(lib)) result.add(lib);
                    }
                }
            }
        }
        return result;
    }

    private static List<Path> children(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) if (Files.isDirectory(p)) out.add(p);
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }
}
