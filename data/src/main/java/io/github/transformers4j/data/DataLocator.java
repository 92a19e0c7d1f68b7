package io.github.transformers4j.data;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeMap;

/**
 * Finds a dataset's folder. With a data folder given ({@code --data-dir}) only that folder is searched:
 * the folder itself, then {@code <data-dir>/<name>} and the source's aliases. Without one: {@code ./data/<name>},
 * {@code ~/.cache/transformers4j/<name>} (and aliases under both), then the source's system folders such as
 * {@code /usr/share/datasets/fashion-mnist}. When nothing is found and the source can be downloaded, it is
 * downloaded into {@code <data-dir>/<name>} or {@code ~/.cache/transformers4j/<name>}; otherwise the error lists
 * every place searched and how to get the data.
 *
 * @param dataDir the folder given by the user, or null
 * @param workData the working folder's data root, normally {@code ./data}
 * @param cacheDir the cache root, normally {@code ~/.cache/transformers4j}
 * @param download whether to download missing data
 * @param progress whether downloads show a progress bar
 */
public record DataLocator(Path dataDir, Path workData, Path cacheDir, boolean download, boolean progress) {
    /** The standard search: {@code dataDir} (may be null), else ./data and ~/.cache/transformers4j; downloads on. */
    public static DataLocator standard(Path dataDir) {
        return new DataLocator(dataDir, Path.of("data"), defaultCacheDir(), true, true);
    }

    public static Path defaultCacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "transformers4j");
    }

    public DataLocator withDownload(boolean download) {
        return new DataLocator(dataDir, workData, cacheDir, download, progress);
    }

    /** Candidate folders, in search order. */
    public List<Path> searchPath(DatasetSource source) {
        LinkedHashSet<Path> dirs = new LinkedHashSet<>();
        if (dataDir != null) {
            dirs.add(dataDir);
            addUnder(dirs, dataDir, source);
        } else {
            addUnder(dirs, workData, source);
            addUnder(dirs, cacheDir, source);
            dirs.addAll(source.systemDirs());
        }
        return List.copyOf(dirs);
    }

    private static void addUnder(LinkedHashSet<Path> dirs, Path root, DatasetSource source) {
        dirs.add(root.resolve(source.name()));
        for (String alias : source.aliases()) dirs.add(root.resolve(alias));
    }

    /** Where a download goes: {@code <data-dir>/<name>} or {@code <cache>/<name>}. */
    public Path downloadDir(DatasetSource source) {
        return (dataDir != null ? dataDir : cacheDir).resolve(source.name());
    }

    /** The first folder that holds the dataset, downloading it if allowed and needed. */
    public Path locate(DatasetSource source) {
        List<Path> searched = searchPath(source);
        for (Path dir : searched) if (source.isPresent(dir)) return dir;
        String downloadFailure = null;
        if (download && source.remote() != null) {
            try {
                return fetch(source);
            } catch (DatasetException e) {
                downloadFailure = e.getMessage();
            }
        }
        throw new DatasetException(notFound(source, searched, downloadFailure));
    }

    /** Downloads the source's files that {@link #downloadDir} lacks, checking each one's MD5. */
    public Path fetch(DatasetSource source) {
        if (source.remote() == null) throw new DatasetException(source.name() + ": no download source; " + source.howToGet());
        Path dir = downloadDir(source);
        DatasetSource.Remote remote = source.remote();
        for (var e : new TreeMap<>(remote.md5()).entrySet()) {
            String file = e.getKey();
            String base = file.endsWith(".gz") ? file.substring(0, file.length() - 3) : file;
            if (Files.isRegularFile(dir.resolve(base))) continue;
            URI uri = remote.baseUri().resolve(file);
            Downloader.download(uri, dir.resolve(file), e.getValue(), progress);
        }
        List<String> missing = source.missingFiles(dir);
        if (!missing.isEmpty())
            throw new DatasetException(source.name() + ": after downloading, " + dir + " still lacks " + missing);
        return dir;
    }

    private String notFound(DatasetSource source, List<Path> searched, String downloadFailure) {
        StringBuilder sb = new StringBuilder(source.name()).append(" not found. Looked in:");
        for (Path dir : searched) {
            List<String> missing = source.missingFiles(dir);
            sb.append("\n  ").append(dir.toAbsolutePath().normalize());
            sb.append(Files.isDirectory(dir) ? " (lacks " + String.join(", ", missing) + ")" : " (no such folder)");
        }
        if (downloadFailure != null) sb.append("\nDownload failed: ").append(downloadFailure);
        else if (source.remote() != null) sb.append("\nDownloading is switched off.");
        sb.append("\nTo get it: ").append(source.howToGet());
        if (source.remote() != null)
            sb.append("\n  or download ").append(String.join(", ", new TreeMap<>(source.remote().md5()).keySet()))
                    .append(" from ").append(source.remote().baseUri()).append(" into ")
                    .append(downloadDir(source).toAbsolutePath().normalize());
        sb.append("\n  or point --data-dir at a folder holding ").append(String.join(", ", source.requiredFiles()));
        return sb.toString();
    }
}
