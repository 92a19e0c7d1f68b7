package io.github.transformers4j.io;

import java.util.Arrays;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The safetensors dtype vocabulary, in the reference implementation's declaration order, which is increasing
 * alignment. The writer sorts tensors by this order descending (then by name), as the reference does, so
 * every tensor's data starts at a multiple of its item size. Only whole-byte dtypes are here: the reference's
 * sub-byte F4 / F6_E2M3 / F6_E3M2 are rejected (see {@link #SUB_BYTE}).
 */
enum StDType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1), F8_E8M0(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    C64(8), F64(8), I64(8), U64(8);

    /** Sub-byte dtypes the reference knows and this library refuses (they have no whole-byte item size). */
    static final java.util.Set<String> SUB_BYTE = java.util.Set.of("F4", "F6_E2M3", "F6_E3M2");

    private static final Map<String, StDType> BY_NAME =
            Arrays.stream(values()).collect(Collectors.toUnmodifiableMap(Enum::name, Function.identity()));

    final int itemSize;

    StDType(int itemSize) {
        this.itemSize = itemSize;
    }

    /** The dtype with this exact (case-sensitive) name, or null. */
    static StDType byName(String name) {
        return name == null ? null : BY_NAME.get(name);
    }

    /** All names, for error messages. */
    static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
