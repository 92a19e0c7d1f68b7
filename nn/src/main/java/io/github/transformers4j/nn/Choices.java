package io.github.transformers4j.nn;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Enum choices by their lower-case names, as configuration files and the command line write them. */
public final class Choices {
    private Choices() {}

    /**
     * The constant named {@code name} (any case, '-' for '_'); an unknown name fails with the known ones listed:
     * "{@code option} must be adamw, adam or sgd, got 'rmsprop'".
     */
    public static <E extends Enum<E>> E parse(Class<E> type, String name, String option) {
        if (name != null) {
            String n = name.trim().replace('-', '_').toUpperCase(Locale.ROOT);
            for (E e : type.getEnumConstants()) if (e.name().equals(n)) return e;
        }
        List<String> known = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
        throw new IllegalArgumentException(option + " must be " + String.join(", ", known.subList(0, known.size() - 1)) + " or "
                + known.getLast() + ", got '" + name + "'");
    }

    /** The lower-case name of {@code e}, as {@link #parse} reads it back. */
    public static String id(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
