package io.github.transformers4j.data;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a dataset's files may be found and how to get them.
 *
 * @param name the dataset name and its folder name in a data root, e.g. {@code fashion-mnist}
 * @param aliases other folder names to look for in a data root (e.g. torchvision's {@code FashionMNIST/raw})
 * @param systemDirs folders installed by packages, searched when no data folder was given
 * @param requiredFiles files the folder must hold; a name ending in {@code [.gz]} may be raw or gzipped
 * @param remote where to download the files from, or null when they cannot be downloaded automatically
 * @param howToGet a human instruction for getting the data by hand
 */
public record DatasetSource(String name, List<String> aliases, List<Path> systemDirs, List<String> requiredFiles,
                            Remote remote, String howToGet) {
    /** Files under {@code baseUri}, file name to expected MD5 (in download order). */
    public record Remote(URI baseUri, Map<String, String> md5) {
        public Remote {
            md5 = Map.copyOf(md5);
        }
    }

    public DatasetSource {
        aliases = List.copyOf(aliases);
        systemDirs = List.copyOf(systemDirs);
        requiredFiles = List.copyOf(requiredFiles);
    }

    /** The required files that {@code dir} lacks (all of them when it is not a folder). */
    public List<String> missingFiles(Path dir) {
        if (!Files.isDirectory(dir)) return requiredFiles;
        List<String> missing = new ArrayList<>();
        for (String f : requiredFiles) {
            boolean either = f.endsWith("[.gz]");
            String base = either ? f.substring(0, f.length() - 5) : f;
            boolean found = Files.isRegularFile(dir.resolve(base)) || (either && Files.isRegularFile(dir.resolve(base + ".gz")));
            if (!found) missing.add(f);
        }
        return missing;
    }

    public boolean isPresent(Path dir) {
        return missingFiles(dir).isEmpty();
    }

    /** The same source downloading from another place (tests, mirrors). */
    public DatasetSource withRemote(Remote remote) {
        return new DatasetSource(name, aliases, systemDirs, requiredFiles, remote, howToGet);
    }
}
