package io.github.transformers4j.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.BinaryOp;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.ReduceOp;
import io.github.transformers4j.tensor.UnaryOp;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** CPU-only checks of the kernel sources: op codes agree with the Java enums; includes are inlined once. */
class KernelSourcesTest {
    static final List<String> FILES = KernelCompiler.FILES;

    /** The names in the source's comment line {@code // enum Name { A, B, ... }}. */
    private static List<String> enumInSource(String file, String name) {
        Matcher m = Pattern.compile("// enum " + name + " \\{([^}]*)}").matcher(KernelCompiler.source(file));
        assertThat(m.find()).as("%s declares enum %s", file, name).isTrue();
        return Arrays.stream(m.group(1).split(",")).map(String::trim).toList();
    }

    private static List<String> names(Enum<?>[] values) {
        return Arrays.stream(values).map(Enum::name).toList();
    }

    @Test
    void opCodesMatchTheJavaEnums() {
        assertThat(enumInSource("unary.cu", "UnaryOp")).isEqualTo(names(UnaryOp.values()));
        assertThat(enumInSource("binary.cu", "BinaryOp")).isEqualTo(names(BinaryOp.values()));
        assertThat(enumInSource("reduce.cu", "ReduceOp")).isEqualTo(names(ReduceOp.values()));
        assertThat(enumInSource("copy.cu", "DType")).isEqualTo(names(DType.values()));
        assertThat(enumInSource("random.cu", "Distribution")).isEqualTo(names(Backend.Distribution.values()));
    }

    @Test
    void theCodeEnumsListTheSameNamesInOrder() {
        // the C enums that give the codes: U_NEG, ... must follow the documented order
        String unary = KernelCompiler.source("unary.cu");
        Matcher m = Pattern.compile("enum \\{ (U_NEG[^}]*)}").matcher(unary);
        assertThat(m.find()).isTrue();
        List<String> codes = Arrays.stream(m.group(1).split(",")).map(s -> s.trim().substring(2)).toList();
        assertThat(codes).isEqualTo(names(UnaryOp.values()));
        m = Pattern.compile("enum \\{ (B_ADD[^}]*)}").matcher(KernelCompiler.source("binary.cu"));
        assertThat(m.find()).isTrue();
        assertThat(Arrays.stream(m.group(1).split(",")).map(s -> s.trim().substring(2)).toList())
                .isEqualTo(names(BinaryOp.values()));
        m = Pattern.compile("enum \\{ (DT_F32[^}]*)}").matcher(KernelCompiler.source("copy.cu"));
        assertThat(m.find()).isTrue();
        assertThat(Arrays.stream(m.group(1).split(",")).map(s -> s.trim().substring(3)).toList())
                .isEqualTo(names(DType.values()));
    }

    @Test
    void includesAreInlinedOnce() {
        for (String f : FILES) {
            String src = KernelCompiler.source(f);
            assertThat(src).as(f).doesNotContain("#include");
            if (!f.equals("elementwise.cu")) {
                assertThat(src.split("struct Layout \\{", -1)).as(f + ": common.cuh once").hasSize(2);
            }
        }
    }
}
