package io.github.transformers4j.data.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A summarization corpus from Debian's English package descriptions ({@code Translation-en} files that
 * {@code apt-get -o Acquire::Languages=en update} writes to {@code /var/lib/apt/lists}): the long description is the
 * document, the one-line synopsis its summary.
 *
 * <p>Rules:
 * <ul>
 *   <li>A record is a {@code Package:} / {@code Description-md5:} / {@code Description-en:} stanza; the text after
 *       {@code Description-en:} is the synopsis, the following lines that start with a space the long description.
 *       A line " ." separates paragraphs and is dropped; every other line loses its leading space and surrounding
 *       blanks, and the lines are joined with single spaces (one paragraph of running text).</li>
 *   <li>Dropped: records whose document or summary is empty, a package seen before (the first file wins), and
 *       documents equal to an earlier one (after collapsing whitespace) — the same description shipped by several
 *       packages or archives.</li>
 *   <li>Split: by a hash of the <em>source</em> package, so binary packages built from one source (which often share
 *       paragraphs: {@code 0ad-data} and {@code 0ad-data-common}) land in one split: FNV-1a 64 of the source name,
 *       modulo 100: 0..89 train, 90..94 validation, 95..99 test. The source comes from the {@code Source:} field of the
 *       {@code Packages} lists beside the Translation files (a binary without that field is its own source); a package
 *       missing from them falls back to {@link #guessSource(String)}.</li>
 * </ul>
 */
public final class DebianDescriptions {
    public static final Path APT_LISTS = Path.of("/var/lib/apt/lists");
    public static final Path APT_HELPER = Path.of("/usr/lib/apt/apt-helper");

    private DebianDescriptions() {}

    /** One stanza of a Translation file. */
    public record Entry(String pkg, String md5, String synopsis, String description) {}

    /** The corpus split three ways, with what was dropped. */
    public record Corpus(List<TextPair> train, List<TextPair> validation, List<TextPair> test, Stats stats) {}

    public record Stats(int records, int emptyDocument, int emptySummary, int duplicatePackage, int duplicateDocument,
                        int sourcesFromPackages, int sourcesGuessed) {}

    // ------------------------------------------------------------------------------------------------ parsing

    /** Parses a decompressed Translation-en file, calling {@code sink} for each stanza with a Description-en field. */
    public static void parse(BufferedReader r, Consumer<Entry> sink) throws IOException {
        String pkg = null, md5 = null, synopsis = null;
        StringBuilder desc = new StringBuilder();
        boolean inDesc = false;
        String line;
        while (true) {
            line = r.readLine();
            if (line == null || line.isEmpty()) {
                if (pkg != null && synopsis != null) sink.accept(new Entry(pkg, md5, synopsis.strip(), desc.toString()));
                pkg = md5 = synopsis = null;
                desc.setLength(0);
                inDesc = false;
                if (line == null) return;
                continue;
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                if (!inDesc) continue; // continuation of another field
                String t = line.strip();
                if (t.equals(".")) continue; // paragraph marker
                if (t.isEmpty()) continue;
                if (!desc.isEmpty()) desc.append(' ');
                desc.append(t);
                continue;
            }
            inDesc = false;
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon), value = line.substring(colon + 1).strip();
            switch (key) {
                case "Package" -> pkg = value;
                case "Description-md5" -> md5 = value;
                case "Description-en" -> {
                    synopsis = value;
                    inDesc = true;
                }
                default -> { }
            }
        }
    }

    public static List<Entry> parse(BufferedReader r) throws IOException {
        List<Entry> out = new ArrayList<>();
        parse(r, out::add);
        return out;
    }

    /** Binary package -> source package from a decompressed Packages list ({@code Source: name (version)} when they differ). */
    public static void parseSources(BufferedReader r, Map<String, String> out) throws IOException {
        String pkg = null, src = null, line;
        while (true) {
            line = r.readLine();
            if (line == null || line.isEmpty()) {
                if (pkg != null) out.putIfAbsent(pkg, src == null ? pkg : src);
                pkg = src = null;
                if (line == null) return;
                continue;
            }
            if (line.startsWith("Package:")) pkg = line.substring(8).strip();
            else if (line.startsWith("Source:")) {
                String v = line.substring(7).strip();
                int sp = v.indexOf(' ');
                src = sp < 0 ? v : v.substring(0, sp);
            }
        }
    }

    private static final Pattern SUFFIX = Pattern.compile(
            "-(dev|doc|docs|dbg|dbgsym|data|common|bin|utils|tools|examples|plugins?|perl|java|cil|el|tests?|l10n|locales?|"
                    + "i18n|lang|fonts?|themes?|gtk[0-9]*|qt[0-9]*|runtime|headers|static|source|src|extra|core|base|all)$");
    private static final Pattern LIB_VERSION = Pattern.compile("^lib(.+?)[-.]?[0-9][0-9.a-z+~-]*$");
    private static final Pattern LANG_PREFIX = Pattern.compile("^(python3?|ruby|golang|php|r-cran|r-bioc|node|libjs|lua|elpa|fonts|xfonts|texlive)-");

    /**
     * A heuristic source name for a binary package when no Packages list says it: strip known suffixes repeatedly
     * ({@code -dev}, {@code -doc}, {@code -dbg}, {@code -data}, {@code -common}, {@code -utils}, ...), a trailing
     * soname version of a {@code lib} package ({@code libfoo2.1} -> {@code foo}), the {@code lib} prefix, and language
     * prefixes ({@code python3-}, {@code ruby-}, {@code golang-}, {@code node-}, ...). {@code libfoo-dev}, {@code libfoo1}
     * and {@code foo-doc} all map to {@code foo}.
     */
    public static String guessSource(String pkg) {
        String s = pkg.toLowerCase(Locale.ROOT);
        for (String prev = null; !s.equals(prev); ) {
            prev = s;
            s = SUFFIX.matcher(s).replaceAll("");
            var m = LIB_VERSION.matcher(s);
            if (m.matches()) s = "lib" + m.group(1);
            if (s.startsWith("lib") && s.length() > 3) s = s.substring(3);
            s = LANG_PREFIX.matcher(s).replaceAll("");
            if (s.isEmpty()) s = prev;
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------------ building

    /** FNV-1a 64-bit hash of the UTF-8 bytes: a fixed, documented function, so splits never change between JDKs. */
    public static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** 0 = train, 1 = validation, 2 = test for a source package (90/5/5). */
    public static int splitOf(String source) {
        int bucket = (int) Long.remainderUnsigned(fnv1a64(source), 100);
        return bucket < 90 ? 0 : bucket < 95 ? 1 : 2;
    }

    /**
     * Builds the corpus from parsed entries (in file order) and a binary -> source map (may be empty).
     */
    public static Corpus build(List<Entry> entries, Map<String, String> sources) {
        List<List<TextPair>> splits = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Set<String> packages = new HashSet<>(), documents = new HashSet<>();
        int emptyDoc = 0, emptySum = 0, dupPkg = 0, dupDoc = 0, fromPackages = 0, guessed = 0;
        for (Entry e : entries) {
            if (!packages.add(e.pkg())) {
                dupPkg++;
                continue;
            }
            String doc = e.description().replaceAll("\\s+", " ").strip();
            if (doc.isEmpty()) {
                emptyDoc++;
                continue;
            }
            if (e.synopsis().isBlank()) {
                emptySum++;
                continue;
            }
            if (!documents.add(doc)) {
                dupDoc++;
                continue;
            }
            String src = sources.get(e.pkg());
            if (src != null) fromPackages++;
            else {
                src = guessSource(e.pkg());
                guessed++;
            }
            splits.get(splitOf(src)).add(new TextPair(e.pkg(), doc, e.synopsis()));
        }
        return new Corpus(splits.get(0), splits.get(1), splits.get(2),
                new Stats(entries.size(), emptyDoc, emptySum, dupPkg, dupDoc, fromPackages, guessed));
    }

    /** Writes train.jsonl, validation.jsonl and test.jsonl into {@code dir}. */
    public static void write(Corpus c, Path dir) {
        TextPairDataset.writeJsonl(dir.resolve("train.jsonl"), c.train());
        TextPairDataset.writeJsonl(dir.resolve("validation.jsonl"), c.validation());
        TextPairDataset.writeJsonl(dir.resolve("test.jsonl"), c.test());
    }

    // ------------------------------------------------------------------------------------------------ apt files

    /** The {@code *_i18n_Translation-en*} files in {@code listsDir}, main archive first (then by name). */
    public static List<Path> translationFiles(Path listsDir) {
        return listFiles(listsDir, "_i18n_Translation-en");
    }

    /** The {@code *_Packages*} files in {@code listsDir}. */
    public static List<Path> packagesFiles(Path listsDir) {
        return listFiles(listsDir, "_Packages");
    }

    private static List<Path> listFiles(Path dir, String marker) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().contains(marker) && !p.getFileName().toString().endsWith(".diff"))
                    .sorted((a, b) -> {
                        int ra = rank(a), rb = rank(b);
                        return ra != rb ? Integer.compare(ra, rb) : a.compareTo(b);
                    }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Main archive before -updates before -security (so the main description wins on duplicates). */
    private static int rank(Path p) {
        String n = p.getFileName().toString();
        return n.contains("-security") ? 2 : n.contains("-updates") || n.contains("-backports") ? 1 : 0;
    }

    /**
     * Opens a list file as text: plain files directly, compressed ones (.lz4, .gz, .xz, ...) through
     * {@code apt-helper cat-file}, which decompresses every format apt writes.
     */
    public static BufferedReader open(Path file) throws IOException {
        String n = file.getFileName().toString();
        if (!n.matches(".*\\.(lz4|gz|xz|bz2|zst|lzma)$")) return Files.newBufferedReader(file, StandardCharsets.UTF_8);
        if (n.endsWith(".gz")) {
            return new BufferedReader(new InputStreamReader(new java.util.zip.GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8));
        }
        if (!Files.isExecutable(APT_HELPER))
            throw new IllegalStateException(file + " is compressed and " + APT_HELPER + " (from the apt package), which decompresses it, "
                    + "is not there; decompress it yourself (e.g. lz4 -d) and pass the plain file");
        Process p = new ProcessBuilder(APT_HELPER.toString(), "cat-file", file.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)) {
            @Override
            public void close() throws IOException {
                super.close();
                try {
                    int rc = p.waitFor();
                    if (rc != 0) throw new IOException(APT_HELPER + " cat-file " + file + " failed with exit code " + rc);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for apt-helper", e);
                }
            }
        };
    }

    /** Reads all Translation and Packages lists of {@code listsDir} and builds the corpus. */
    public static Corpus fromAptLists(Path listsDir, Consumer<String> log) {
        List<Path> translations = translationFiles(listsDir);
        if (translations.isEmpty())
            throw new IllegalStateException("no *_i18n_Translation-en* files in " + listsDir + "; run (as root) "
                    + "apt-get -o Acquire::Languages=en update, or pass --lists DIR");
        try {
            List<Entry> entries = new ArrayList<>();
            for (Path t : translations) {
                int before = entries.size();
                try (BufferedReader r = open(t)) {
                    parse(r, entries::add);
                }
                log.accept(String.format(Locale.ROOT, "read %,d descriptions from %s", entries.size() - before, t));
            }
            Map<String, String> sources = new HashMap<>();
            for (Path p : packagesFiles(listsDir)) {
                try (BufferedReader r = open(p)) {
                    parseSources(r, sources);
                }
            }
            log.accept(String.format(Locale.ROOT, "source names for %,d binary packages from Packages lists", sources.size()));
            return build(entries, sources);
        } catch (IOException e) {
            throw new UncheckedIOException("reading apt lists in " + listsDir + ": " + e.getMessage(), e);
        }
    }

    /** Counts for printing: split sizes and the drops. */
    public static Map<String, Integer> counts(Corpus c) {
        Map<String, Integer> m = new LinkedHashMap<>();
        Stats s = c.stats();
        m.put("records", s.records());
        m.put("dropped_duplicate_package", s.duplicatePackage());
        m.put("dropped_empty_document", s.emptyDocument());
        m.put("dropped_empty_summary", s.emptySummary());
        m.put("dropped_duplicate_document", s.duplicateDocument());
        m.put("source_from_packages", s.sourcesFromPackages());
        m.put("source_guessed", s.sourcesGuessed());
        m.put("train", c.train().size());
        m.put("validation", c.validation().size());
        m.put("test", c.test().size());
        return m;
    }
}
