package io.github.transformers4j.data.text.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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

    @BeforeAll
    static void trainBpe() {
        BpeTrainer t = new BpeTrainer(3 + 256 + 300, 2);
        for (int i = 0; i < 3; i++) CORPUS.forEach(t::feed);
        bpe = t.train();
        bpeFile = dir.resolve("bpe.json");
        bpe.save(bpeFile);
    }

    /** The library's tokenizer for a file, without DJL's default truncation to 512 tokens. */
    static HuggingFaceTokenizer reference(Path file) throws java.io.IOException {
        return HuggingFaceTokenizer.builder().optTokenizerPath(file).optTruncation(false).build();
    }

    private static void assertSameAsLibrary(Tokenizer ours, Path file, List<String> probes) throws Exception {
        try (HuggingFaceTokenizer ref = reference(file)) {
            for (String text : probes) {
                for (boolean special : new boolean[] {true, false}) {
                    var enc = ref.encode(text, special, false);
                    int[] expected = Arrays.stream(enc.getIds()).mapToInt(x -> (int) x).toArray();
                    assertThat(ours.encode(text, special)).as("ids of '%s' (special tokens %s)", text, special).containsExactly(expected);
                    // The library reports an unknown piece of a Unigram model, and an added token with lstrip/rstrip, by
                    // the text it matched; we name both by the token itself. All other token strings must agree.
                    List<String> tokens = ours.tokenize(text, special);
                    var added = ours.addedTokens().stream().map(AddedToken::id).toList();
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

    @Test
    void precompiledNormalizerIsRefusedWithAClearMessage() {
        String json = UNIGRAM.replace("{\"type\":\"NFKC\"}", "{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"AAAA\"}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Tokenizer.fromJson(json))
                .hasMessageContaining("Precompiled").hasMessageContaining("NFKC");
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
