package io.github.transformers4j.train.rouge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RougeTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            // examples from Porter (1980) and the reference vocabulary/output of the original algorithm
            "caresses,caress", "ponies,poni", "ties,ti", "caress,caress", "cats,cat", "feed,feed", "agreed,agre",
            "plastered,plaster", "bled,bled", "motoring,motor", "sing,sing", "conflated,conflat", "troubled,troubl",
            "sized,size", "hopping,hop", "tanned,tan", "falling,fall", "hissing,hiss", "fizzed,fizz", "failing,fail",
            "filing,file", "happy,happi", "sky,sky", "relational,relat", "conditional,condit", "rational,ration",
            "digitizer,digit", "operator,oper", "feudalism,feudal", "decisiveness,decis", "hopefulness,hope",
            "callousness,callous", "triplicate,triplic", "formative,form", "formalize,formal", "electrical,electr",
            "hopeful,hope", "goodness,good", "revival,reviv", "allowance,allow", "inference,infer", "airliner,airlin",
            "gyroscopic,gyroscop", "adjustable,adjust", "defensible,defens", "irritant,irrit", "replacement,replac",
            "adjustment,adjust", "dependent,depend", "adoption,adopt", "communism,commun", "activate,activ",
            "effective,effect", "bowdlerize,bowdler", "probate,probat", "rate,rate", "cease,ceas", "controlling,control",
            "roll,roll", "generalizations,gener", "oscillators,oscil", "summarization,summar", "running,run"})
    void porterStemmerKnownOutputs(String word, String stem) {
        assertThat(PorterStemmer.stem(word)).isEqualTo(stem);
    }

    @Test
    void tokenizationLowercasesAndKeepsAlphanumericRuns() {
        assertThat(new Rouge(false).tokenize("The C++ library, v2.0 -- GNU's!")).containsExactly("the", "c", "library", "v2", "0", "gnu", "s");
        assertThat(new Rouge(true).tokenize("Running libraries quickly")).containsExactly("run", "librari", "quickli");
        assertThat(new Rouge(true).tokenize("cats")).containsExactly("cat");
        // only tokens longer than 3 characters are stemmed: Porter alone would make "bus" "bu"
        assertThat(PorterStemmer.stem("bus")).isEqualTo("bu");
        assertThat(new Rouge(true).tokenize("bus ties")).containsExactly("bus", "ti");
    }

    @Test
    void handComputedCase() {
        // prediction: the cat was found under the bed (7 tokens); reference: the cat was under the bed (6 tokens)
        Rouge.Scores s = new Rouge(false).score("the cat was found under the bed", "the cat was under the bed");
        // unigrams: overlap = the(2) cat was under bed = 6 -> P 6/7, R 6/6
        assertThat(s.rouge1().precision()).isCloseTo(6.0 / 7, within(1e-12));
        assertThat(s.rouge1().recall()).isCloseTo(1.0, within(1e-12));
        assertThat(s.rouge1().f1()).isCloseTo(2 * (6.0 / 7) / (6.0 / 7 + 1), within(1e-12));
        // bigrams: pred {the cat, cat was, was found, found under, under the, the bed}; ref {the cat, cat was, was under, under the, the bed}
        // overlap 4 -> P 4/6, R 4/5
        assertThat(s.rouge2().f1()).isCloseTo(2 * (4.0 / 6) * (4.0 / 5) / (4.0 / 6 + 4.0 / 5), within(1e-12));
        // LCS = the cat was under the bed = 6 -> same as ROUGE-1 here
        assertThat(s.rougeL().f1()).isCloseTo(s.rouge1().f1(), within(1e-12));
    }

    @Test
    void lcsIsNotContiguous() {
        // pred: a b c d e, ref: a x c y e -> LCS a c e = 3; unigram overlap 3; no common bigram
        Rouge.Scores s = new Rouge(false).score("a b c d e", "a x c y e");
        assertThat(s.rougeL().f1()).isCloseTo(0.6, within(1e-12));
        assertThat(s.rouge2().f1()).isZero();
        // order matters for L but not for 1: reversed prediction keeps ROUGE-1, LCS drops to 1
        Rouge.Scores r = new Rouge(false).score("e d c b a", "a x c y e");
        assertThat(r.rouge1().f1()).isCloseTo(0.6, within(1e-12));
        assertThat(r.rougeL().f1()).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void repeatedTokensAreClippedAndEmptyTextsScoreZero() {
        Rouge.Scores s = new Rouge(false).score("the the the the", "the cat");
        assertThat(s.rouge1().precision()).isCloseTo(0.25, within(1e-12));
        assertThat(s.rouge1().recall()).isCloseTo(0.5, within(1e-12));
        assertThat(new Rouge(false).score("", "the cat").rouge1().f1()).isZero();
        assertThat(new Rouge(false).score("...", "").rougeL().f1()).isZero();
    }

    @Test
    void stemmingMatchesInflections() {
        assertThat(new Rouge(false).score("connected", "connecting").rouge1().f1()).isZero();
        assertThat(new Rouge(true).score("connected", "connecting").rouge1().f1()).isEqualTo(1.0);
    }

    @Test
    void corpusIsTheMeanOfExamplesAndLeadTakesFirstWords() {
        Rouge.Corpus c = new Rouge(false).corpus(List.of("a b", "x"), List.of("a b", "y"));
        assertThat(c.rouge1().f1()).isCloseTo(0.5, within(1e-12));
        assertThat(Rouge.lead("  one two\nthree four ", 3)).isEqualTo("one two three");
        assertThat(Rouge.lead("one", 3)).isEqualTo("one");
        assertThat(Rouge.lead("", 3)).isEmpty();
    }
}
