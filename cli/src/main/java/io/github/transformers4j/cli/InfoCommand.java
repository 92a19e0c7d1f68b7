package io.github.transformers4j.cli;

import io.github.transformers4j.tensor.cpu.Parallel;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the Java runtime, CPU threads, SIMD width, memory and whether CUDA can be used.")
final class InfoCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ThreadsOption threads;

    @Option(names = "--compile-kernels", description = "compile every CUDA kernel for this machine's GPUs into the kernel cache, "
            + "all files side by side, so that the first GPU run loads them instead of compiling each as it is first used")
    boolean compileKernels;

    @Override
    public void run() {
        threads.apply();
        if (compileKernels) {
            System.out.print(compileKernelsText(Math.max(1, Runtime.getRuntime().availableProcessors())));
            return;
        }
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "java:    %s %s (%s)%n", System.getProperty("java.vm.name"), Runtime.version(),
                System.getProperty("java.vendor"));
        System.out.printf(Locale.ROOT, "os:      %s %s %s%n", System.getProperty("os.name"), System.getProperty("os.version"),
                System.getProperty("os.arch"));
        System.out.printf(Locale.ROOT, "cpu:     %d cores available, %d tensor threads%n", rt.availableProcessors(), Parallel.threads());
        var species = FloatVector.SPECIES_PREFERRED;
        System.out.printf(Locale.ROOT, "simd:    %d-bit vectors, %d floats per vector (FloatVector.SPECIES_PREFERRED)%n",
                species.vectorBitSize(), species.length());
        long physical = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            physical = os.getTotalMemorySize();
        System.out.printf(Locale.ROOT, "memory:  JVM heap max %s; physical %s%n", human(rt.maxMemory()),
                physical < 0 ? "unknown" : human(physical));
        System.out.println("devices: cpu" + cudaLine());
    }

    /** CUDA status through reflection, so the cuda module stays optional at run time. */
    static String cudaLine() {
        try {
            Class<?> info = Class.forName("io.github.transformers4j.cuda.CudaInfo");
            Object text = info.getMethod("describe").invoke(null);
            return "\ncuda:    " + String.valueOf(text).strip().replace("\n", "\n         ");
        } catch (ClassNotFoundException e) {
            return "\ncuda:    not available (the transformers4j-cuda module is not on the class path)";
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return "\ncuda:    not available (" + c + ")";
        }
    }

    /** {@code CudaInfo.compileKernels} through reflection, as {@link #cudaLine()}. */
    static String compileKernelsText(int threads) {
        try {
            Class<?> info = Class.forName("io.github.transformers4j.cuda.CudaInfo");
            return String.valueOf(info.getMethod("compileKernels", int.class).invoke(null, threads));
        } catch (ClassNotFoundException e) {
            return "no kernels compiled: the transformers4j-cuda module is not on the class path\n";
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable c = e.getCause() != null ? e.getCause() : e;
            return "no kernels compiled: " + c + "\n";
        }
    }

    static String human(long bytes) {
        double g = bytes / (1024.0 * 1024 * 1024);
        return g >= 1 ? String.format(Locale.ROOT, "%.1f GiB", g) : String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
    }
}
