package io.github.transformers4j.tensor.cpu;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.ObjectName;

/**
 * Asks HotSpot's C2 to always inline {@link VecMath} into the CPU kernels (a compiler directive, JEP 165, added at run
 * time as {@code jcmd Compiler.directives_add} would). Why: a vector helper such as {@code VecMath.exp} that C2 has
 * already compiled on its own (it was hot in a loop still running in C1) is "already compiled into a big method" and
 * is then called, not inlined, by the loop compiled later; every vector crossing the call is boxed, and GELU's
 * backward took 15 to 50 ms a step instead of 5 depending on which compiled first. A forced inline skips that size test.
 * Only methods of this package are matched, and only VecMath is forced. {@code -Dt4j.cpu.jitDirectives=false} skips it;
 * a JVM without the diagnostic command (not HotSpot, or no {@code jdk.management}) runs as before.
 */
final class JitDirectives {
    private static final String DIRECTIVE = """
            [{ match: "io/github/transformers4j/tensor/cpu/*.*", inline: "+io/github/transformers4j/tensor/cpu/VecMath.*" }]
            """;
    private static volatile String status = "not installed";

    private JitDirectives() {}

    static synchronized void install() {
        if (!status.equals("not installed")) return;
        if (!Boolean.parseBoolean(System.getProperty("t4j.cpu.jitDirectives", "true"))) {
            status = "off (-Dt4j.cpu.jitDirectives=false)";
            return;
        }
        try {
            Path file = Files.createTempFile("t4j-jit", ".json");
            try {
                Files.writeString(file, DIRECTIVE);
                Object answer = ManagementFactory.getPlatformMBeanServer().invoke(
                        new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerDirectivesAdd",
                        new Object[] {new String[] {file.toString()}}, new String[] {String[].class.getName()});
                status = String.valueOf(answer).strip();
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (Exception | LinkageError e) {
            status = "unavailable (" + e + ")";
        }
    }

    /** What the JVM answered, for {@code t4j info} and tests: "1 compiler directives added" when it took. */
    static String status() {
        return status;
    }
}
