package io.github.transformers4j.train.rouge;

/**
 * The Porter stemmer as published (M.F. Porter, "An algorithm for suffix stripping", Program 14(3), 1980): steps 1a,
 * 1b, 1c, 2, 3, 4, 5a, 5b on a lowercase word, with the paper's rules (step 2 maps "abli" to "able"; no "logi" rule).
 * This is the stemmer ROUGE uses (rouge-score applies NLTK's PorterStemmer in its original-algorithm mode).
 * Words of one or two letters are returned unchanged.
 */
public final class PorterStemmer {
    private char[] b;
    private int k, j; // b[0..k] is the word being stemmed; j marks the end of a candidate stem

    public static String stem(String word) {
        if (word.length() <= 2) return word;
        PorterStemmer s = new PorterStemmer();
        s.b = word.toCharArray();
        s.k = word.length() - 1;
        s.step1ab();
        if (s.k > 0) {
            s.step1c();
            s.step2();
            s.step3();
            s.step4();
            s.step5();
        }
        return new String(s.b, 0, s.k + 1);
    }

    /** b[i] is a consonant ('y' is one at the start or after a vowel). */
    private boolean cons(int i) {
        return switch (b[i]) {
            case 'a', 'e', 'i', 'o', 'u' -> false;
            case 'y' -> i == 0 || !cons(i - 1);
            default -> true;
        };
    }

    /** m, the number of VC sequences in b[0..j]: [C](VC)^m[V]. */
    private int m() {
        int n = 0, i = 0;
        while (true) {
            if (i > j) return n;
            if (!cons(i)) break;
            i++;
        }
        i++;
        while (true) {
            while (true) {
                if (i > j) return n;
                if (cons(i)) break;
                i++;
            }
            i++;
            n++;
            while (true) {
                if (i > j) return n;
                if (!cons(i)) break;
                i++;
            }
            i++;
        }
    }

    /** b[0..j] contains a vowel. */
    private boolean vowelInStem() {
        for (int i = 0; i <= j; i++) if (!cons(i)) return true;
        return false;
    }

    /** b[i-1..i] is a double consonant. */
    private boolean doublec(int i) {
        return i >= 1 && b[i] == b[i - 1] && cons(i);
    }

    /** b[i-2..i] is consonant-vowel-consonant and the last is not w, x or y (e.g. hop, not snow). */
    private boolean cvc(int i) {
        if (i < 2 || !cons(i) || cons(i - 1) || !cons(i - 2)) return false;
        char c = b[i];
        return c != 'w' && c != 'x' && c != 'y';
    }

    private boolean ends(String s) {
        int l = s.length(), o = k - l + 1;
        if (o < 0) return false;
        for (int i = 0; i < l; i++) if (b[o + i] != s.charAt(i)) return false;
        j = k - l;
        return true;
    }

    /** Replaces b[j+1..k] by s. */
    private void setto(String s) {
        int l = s.length(), o = j + 1;
        if (o + l > b.length) b = java.util.Arrays.copyOf(b, o + l);
        for (int i = 0; i < l; i++) b[o + i] = s.charAt(i);
        k = j + l;
    }

    private void r(String s) {
        if (m() > 0) setto(s);
    }

    private void step1ab() {
        if (b[k] == 's') {
            if (ends("sses")) k -= 2;
            else if (ends("ies")) setto("i");
            else if (b[k - 1] != 's') k--;
        }
        if (ends("eed")) {
            if (m() > 0) k--;
        } else if ((ends("ed") || ends("ing")) && vowelInStem()) {
            k = j;
            if (ends("at")) setto("ate");
            else if (ends("bl")) setto("ble");
            else if (ends("iz")) setto("ize");
            else if (doublec(k)) {
                k--;
                char c = b[k];
                if (c == 'l' || c == 's' || c == 'z') k++;
            } else if (m() == 1 && cvc(k)) setto("e");
        }
    }

    private void step1c() {
        if (ends("y") && vowelInStem()) b[k] = 'i';
    }

    private static final String[][] STEP2 = {{"ational", "ate"}, {"tional", "tion"}, {"enci", "ence"}, {"anci", "ance"}, {"izer", "ize"},
            {"abli", "able"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}, {"ization", "ize"}, {"ation", "ate"},
            {"ator", "ate"}, {"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}, {"aliti", "al"},
            {"iviti", "ive"}, {"biliti", "ble"}};
    private static final String[][] STEP3 = {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}, {"iciti", "ic"}, {"ical", "ic"},
            {"ful", ""}, {"ness", ""}};
    private static final String[] STEP4 = {"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
            "ou", "ism", "ate", "iti", "ous", "ive", "ize"};

    private void step2() {
        for (String[] rule : STEP2) {
            if (ends(rule[0])) {
                r(rule[1]);
                return;
            }
        }
    }

    private void step3() {
        for (String[] rule : STEP3) {
            if (ends(rule[0])) {
                r(rule[1]);
                return;
            }
        }
    }

    private void step4() {
        for (String s : STEP4) {
            if (ends(s)) {
                if (s.equals("ion") && !(j >= 0 && (b[j] == 's' || b[j] == 't'))) return;
                if (m() > 1) k = j;
                return;
            }
        }
    }

    private void step5() {
        j = k;
        if (b[k] == 'e') {
            int a = m();
            if (a > 1 || a == 1 && !cvc(k - 1)) k--;
        }
        if (b[k] == 'l' && doublec(k) && m() > 1) k--;
    }
}
