package io.github.transformers4j.data.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebianDescriptionsTest {
    static final String SNIPPET = """
            Package: 0ad
            Description-md5: d943033bedada21853d2ae54a2578a7b
            Description-en: Real-time strategy game of ancient warfare
             0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform
             real-time strategy (RTS) game of ancient warfare.

            Package: 0ad-data
            Description-md5: 26581e685027d5ae84824362a4ba59ee
            Description-en: Real-time strategy game of ancient warfare (data files)
             0 A.D. (pronounced "zero ey-dee") is a free, open-source, cross-platform
             real-time strategy (RTS) game of ancient warfare.
             .
             This package contains the main data files required by 0 A.D.

            Package: empty-one
            Description-md5: 00000000000000000000000000000000
            Description-en: A package with a synopsis only

            Package: copycat
            Description-md5: 11111111111111111111111111111111
            Description-en: Same long text as 0ad
             0 A.D. (pronounced "zero ey-dee") is a free, open-source,   cross-platform
             real-time strategy (RTS) game of ancient warfare.

            Package: 0ad
            Description-md5: 22222222222222222222222222222222
            Description-en: A second record of 0ad (e.g. from the security archive)
             Different text.
            """;

    static List<DebianDescriptions.Entry> entries() throws Exception {
        return DebianDescriptions.parse(new BufferedReader(new StringReader(SNIPPET)));
    }

    @Test
    void parsesStanzasAndDropsParagraphMarkers() throws Exception {
        var e = entries();
        assertThat(e).hasSize(5);
        assertThat(e.get(1).pkg()).isEqualTo("0ad-data");
        assertThat(e.get(1).md5()).isEqualTo("26581e685027d5ae84824362a4ba59ee");
        assertThat(e.get(1).synopsis()).isEqualTo("Real-time strategy game of ancient warfare (data files)");
        assertThat(e.get(1).description()).isEqualTo("0 A.D. (pronounced \"zero ey-dee\") is a free, open-source, cross-platform "
                + "real-time strategy (RTS) game of ancient warfare. This package contains the main data files required by 0 A.D.");
        assertThat(e.get(2).description()).isEmpty();
    }

    @Test
    void dropsEmptyDuplicateDocumentsAndRepeatedPackages() throws Exception {
        var c = DebianDescriptions.build(entries(), Map.of());
        var s = c.stats();
        assertThat(s.records()).isEqualTo(5);
        assertThat(s.emptyDocument()).isEqualTo(1);
        assertThat(s.duplicateDocument()).isEqualTo(1); // copycat: same text up to whitespace
        assertThat(s.duplicatePackage()).isEqualTo(1);  // the second 0ad
        List<TextPair> all = new java.util.ArrayList<>(c.train());
        all.addAll(c.validation());
        all.addAll(c.test());
        assertThat(all).extracting(TextPair::id).containsExactlyInAnyOrder("0ad", "0ad-data");
        assertThat(all).filteredOn(p -> p.id().equals("0ad")).first().extracting(TextPair::summary)
                .isEqualTo("Real-time strategy game of ancient warfare");
    }

    @Test
    void splitFollowsTheSourcePackage() throws Exception {
        // Both binaries come from source "0ad": they land in one split, whichever it is.
        Map<String, String> src = new HashMap<>();
        src.put("0ad", "0ad");
        src.put("0ad-data", "0ad");
        var c = DebianDescriptions.build(entries(), src);
        int split = DebianDescriptions.splitOf("0ad");
        List<TextPair> target = split == 0 ? c.train() : split == 1 ? c.validation() : c.test();
        assertThat(target).extracting(TextPair::id).containsExactly("0ad", "0ad-data");
        assertThat(c.stats().sourcesFromPackages()).isEqualTo(2);
    }

    @Test
    void splitProportionsAreRoughly90_5_5() {
        int[] n = new int[3];
        for (int i = 0; i < 20000; i++) n[DebianDescriptions.splitOf("pkg" + i)]++;
        assertThat(n[0]).isBetween(17600, 18400);
        assertThat(n[1]).isBetween(800, 1200);
        assertThat(n[2]).isBetween(800, 1200);
    }

    @Test
    void fnvHashIsTheStandardOne() {
        // FNV-1a 64 test vectors from the reference (Fowler/Noll/Vo) test suite
        assertThat(DebianDescriptions.fnv1a64("")).isEqualTo(0xcbf29ce484222325L);
        assertThat(DebianDescriptions.fnv1a64("a")).isEqualTo(0xaf63dc4c8601ec8cL);
        assertThat(DebianDescriptions.fnv1a64("foobar")).isEqualTo(0x85944171f73967e8L);
    }

    @Test
    void guessedSourcesGroupTypicalBinaryFamilies() {
        assertThat(DebianDescriptions.guessSource("libfoo-dev")).isEqualTo("foo");
        assertThat(DebianDescriptions.guessSource("libfoo2")).isEqualTo("foo");
        assertThat(DebianDescriptions.guessSource("foo-doc")).isEqualTo("foo");
        assertThat(DebianDescriptions.guessSource("python3-foo")).isEqualTo("foo");
        assertThat(DebianDescriptions.guessSource("0ad-data-common")).isEqualTo("0ad");
    }

    @Test
    void sourcesComeFromPackagesLists() throws Exception {
        Map<String, String> m = new HashMap<>();
        DebianDescriptions.parseSources(new BufferedReader(new StringReader("""
                Package: 0ad-data
                Source: 0ad-data (0.0.26-1)
                Version: 0.0.26-1

                Package: bash
                Version: 5.2

                """)), m);
        assertThat(m).containsEntry("0ad-data", "0ad-data").containsEntry("bash", "bash");
    }

    @Test
    void writesJsonlThatTheLoaderReadsBack(@TempDir Path dir) throws Exception {
        var c = DebianDescriptions.build(entries(), Map.of());
        DebianDescriptions.write(c, dir);
        int total = 0;
        for (String s : new String[] {"train", "validation", "test"}) {
            assertThat(dir.resolve(s + ".jsonl")).exists();
            total += TextPairDataset.open(dir, s, TextPairDataset.Fields.DEFAULT).size();
        }
        assertThat(total).isEqualTo(2);
    }

    @Test
    void readsCompressedAndPlainTranslationFilesFromAListsFolder(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("deb.example_debian_dists_x_main_i18n_Translation-en"), SNIPPET);
        var c = DebianDescriptions.fromAptLists(dir, s -> { });
        assertThat(c.train().size() + c.validation().size() + c.test().size()).isEqualTo(2);
    }
}
