package io.github.transformers4j.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.transformers4j.cuda.CudaBackend;
import io.github.transformers4j.cuda.CudaInfo;
import io.github.transformers4j.cuda.CublasLt;
import io.github.transformers4j.tensor.Backend;
import io.github.transformers4j.tensor.Autocast;
import io.github.transformers4j.tensor.Backends;
import io.github.transformers4j.tensor.DType;
import io.github.transformers4j.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The side-by-side GPU harness: trains the benchmark workloads with the Java engine (fp32), then runs
 * {@code bench/python/torch_bench.py} (PyTorch eager fp32, eager bf16 autocast, torch.compile bf16,
 * torch.compile(mode="reduce-overhead") bf16) in the same call on the same GPU, and prints one table of throughputs
 * and ratios. Both sides time the same way: warm-up steps, then each step between two CUDA events followed by a
 * synchronisation; the figure is the median.
 * <pre>
 * GpuBench [--workloads vit128,vit1024,bert,s2s,attn] [--warmup 10] [--iters 40] [--profile] [--check]
 *          [--torch bench/python/torch_bench.py] [--torch-variants eager-fp32,eager-bf16,compile-bf16,compile-ro-bf16]
 *          [--torch-budget-s 420] [--out DIR] [--precision fp32|bf16] [--no-graphs]
 * </pre>
 * Java steps are captured into a CUDA graph after two eager steps and replayed ({@link GraphedStep}, the role of
 * PyTorch's reduce-overhead mode) unless {@code --no-graphs}; the line per workload says whether capture held.
 * {@code --precision bf16} runs the Java training steps with bf16 autocast ({@code t4j train --precision bf16}), and
 * the attention micro-benchmark on bf16 q, k, v (flash attention where the backend has it), as PyTorch's eager bf16.
 * {@code --profile} adds, per Java workload, the device time per kind of op ({@link ProfilingBackend});
 * {@code --check} first compares one training step of each model on the CPU and the GPU ({@link ParityCheck}).
 */
public final class GpuBench {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final List<String> TORCH_VARIANTS = List.of("eager-fp32", "eager-bf16", "compile-bf16", "compile-ro-bf16");

    /** peakBytes: the most bytes the caching allocator had handed out during the timed steps (weights, gradients and
     *  optimizer state included), as PyTorch's max_memory_allocated after reset_peak_memory_stats. */
    record JavaResult(Workload w, StepTimer.Timing t, long cublasPerStep, long peakBytes) {
        double throughput() {
            return w.perStep() / (t.medianMs() / 1e3);
        }
    }

    /** The table's header for the Java column ("Java fp32" or "Java bf16"). */
    private static String javaColumn = "Java fp32";

    private GpuBench() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args);
        List<String> keys = List.of(o.getOrDefault("workloads", "vit128,vit1024,bert,s2s,attn").split(","));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "10")), iters = Integer.parseInt(o.getOrDefault("iters", "40"));
        boolean profile = o.containsKey("profile");
        Path out = Path.of(o.getOrDefault("out", System.getenv().getOrDefault("OUT", ".")));
        Files.createDirectories(out);
        System.out.println("transformers4j GPU harness, " + LocalDateTime.now().withNano(0));
        System.out.println(CudaInfo.describe());

        Device dev = Device.cuda(0);
        DType autocast = Autocast.parse(o.getOrDefault("precision", "fp32"));
        boolean graphs = !o.containsKey("no-graphs");
        javaColumn = "Java " + o.getOrDefault("precision", "fp32") + (graphs ? " graphs" : "");
        CudaBackend backend = (CudaBackend) Backends.of(dev);
        if (o.containsKey("check")) ParityCheck.runAll(dev);
        List<JavaResult> java = new ArrayList<>();
        if (!o.containsKey("no-java")) {
            for (String key : expand(keys)) {
                JavaResult r = runJava(key, dev, backend, warmup, iters, profile, autocast, graphs);
                java.add(r);
            }
        }
        JsonNode torch = null;
        String script = o.get("torch");
        if (script != null) torch = runTorch(script, expand(keys), o.getOrDefault("torch-variants", String.join(",", TORCH_VARIANTS)),
                o.getOrDefault("torch-budget-s", "420"), out);
        String table = table(java, torch);
        System.out.println();
        System.out.println(table);
        Files.writeString(out.resolve("gpu_bench.md"), table);
        Files.writeString(out.resolve("gpu_bench_java.json"), JSON.writeValueAsString(javaJson(java)));
    }

    /** attn -> attn65, attn257, attn1024, attn1024c (causal). */
    static List<String> expand(List<String> keys) {
        List<String> r = new ArrayList<>();
        for (String k : keys) {
            if (k.equals("attn")) r.addAll(List.of("attn65", "attn257", "attn1024", "attn1024c"));
            else r.add(k);
        }
        return r;
    }

    static Workload workload(String key, Device dev, DType ac) {
        return switch (key) {
            case "vit128" -> JavaWorkloads.classifier(key, "ViT 256-d x 4, 4 heads, FFN 1024, patch 4, 32x32x3", "vit-tiny-p4", 128, dev, ac);
            case "vit1024" -> JavaWorkloads.classifier(key, "ViT 256-d x 4, 4 heads, FFN 1024, patch 4, 32x32x3", "vit-tiny-p4", 1024, dev, ac);
            case "bert" -> JavaWorkloads.classifier(key, "BERT-style ViT 256-d x 12, 8 heads, patch 4", "vit-bert12-p4", 192, dev, ac);
            case "s2s" -> JavaWorkloads.seq2seq(16, 512, 64, dev, ac);
            default -> {
                var m = java.util.regex.Pattern.compile("attn([0-9]+)(c?)(d?)(m?)").matcher(key);
                if (m.matches()) {
                    yield JavaWorkloads.attention(128, 4, Integer.parseInt(m.group(1)), 64, !m.group(2).isEmpty(), !m.group(3).isEmpty(),
                            !m.group(4).isEmpty(), dev, ac);
                }
                throw new IllegalArgumentException("unknown workload '" + key + "'; known: vit128, vit1024, bert, s2s, attn (attn65, attn257, "
                        + "attn1024, attn1024c; attnL[c][d][m]: L keys, causal, dropout 0.1, key-padding mask)");
            }
        };
    }

    static JavaResult runJava(String key, Device dev, CudaBackend backend, int warmup, int iters, boolean profile, DType autocast,
            boolean graphs) {
        long t0 = System.nanoTime();
        Workload eager = workload(key, dev, autocast);
        Workload w = graphs ? eager.graphed(dev, 2) : eager;
        // the JVM compiles hot code during the first steps: warm up for the given steps and at least 3 s
        long warmEnd = System.nanoTime() + 3_000_000_000L;
        int done = 0;
        while (done < warmup || System.nanoTime() < warmEnd) {
            w.step().run();
            done++;
            if (done % 5 == 0) backend.synchronize();
        }
        long c0 = CublasLt.calls();
        backend.synchronize();
        backend.gpu().allocator().resetPeak();
        StepTimer.Timing t = StepTimer.time(backend, w.step(), 2, iters);
        long cublas = (CublasLt.calls() - c0) / (iters + 2);
        JavaResult r = new JavaResult(w, t, cublas, backend.gpu().allocator().stats().peakBytesInUse());
        System.out.println(String.format(Locale.ROOT,
                "java %-9s %-55s step %8.3f ms (min %.3f, max %.3f)  %10.1f %s  host %.3f ms/step, %d launches + %d cuBLASLt/step, "
                        + "%s, %,d params, peak %.0f MiB, warm-up %d steps, %.1f s",
                key, w.title(), t.medianMs(), t.minMs(), t.maxMs(), r.throughput(), w.unit(), t.hostMedianMs(), t.launchesPerStep(),
                cublas, w.captured() ? "captured (1 graph launch/step)" : graphs ? "NOT captured" : "eager", w.params(),
                r.peakBytes() / 1048576.0, done, (System.nanoTime() - t0) / 1e9));
        if (profile && w.captured()) {
            // the profile times the eager step's ops (a replay hides them): its launch count is the "before"
            StepTimer.Timing e = StepTimer.time(backend, eager.step(), 2, 10);
            System.out.println(String.format(Locale.ROOT, "java %-9s eager step for comparison: %.3f ms, host %.3f ms/step, %d launches/step",
                    key, e.medianMs(), e.hostMedianMs(), e.launchesPerStep()));
        }
        if (profile) {
            Backend original = Backends.instrument(dev, b -> new ProfilingBackend((CudaBackend) b));
            ProfilingBackend pb = (ProfilingBackend) Backends.of(dev);
            try {
                int steps = 3;
                eager.step().run();
                pb.collect();
                pb.stats.clear();
                for (int i = 0; i < steps; i++) {
                    eager.step().run();
                    pb.collect();
                }
                System.out.print(pb.table(steps, t.medianMs(), 40));
            } finally {
                Backends.restore(dev, original);
                pb.close();
            }
        }
        w.cleanup().run();
        System.gc();
        backend.synchronize();
        backend.gpu().allocator().emptyCache();
        return r;
    }

    static JsonNode runTorch(String script, List<String> keys, String variants, String budget, Path out) throws IOException, InterruptedException {
        Path json = out.resolve("torch_bench.json");
        List<String> cmd = List.of(System.getenv().getOrDefault("PYTHON", "python3"), script, "--json", json.toString(),
                "--workloads", String.join(",", keys.stream().map(k -> k.startsWith("attn") ? "attn" : k).distinct().toList()),
                "--variants", variants, "--budget-s", budget);
        System.out.println("running " + String.join(" ", cmd));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().put("PYTHONUNBUFFERED", "1");
        int rc = pb.start().waitFor();
        if (rc != 0) System.out.println("torch_bench.py exited with " + rc);
        return Files.isRegularFile(json) ? JSON.readTree(json.toFile()) : null;
    }

    /** The comparison table (markdown): Java fp32 and every PyTorch variant, and Java / PyTorch ratios. */
    static String table(List<JavaResult> java, JsonNode torch) {
        Map<String, Map<String, JsonNode>> byKey = new LinkedHashMap<>();
        if (torch != null) {
            for (JsonNode r : torch.path("results")) {
                if (r.has("error")) continue;
                byKey.computeIfAbsent(r.path("key").asText(), k -> new LinkedHashMap<>()).put(r.path("variant").asText(), r);
            }
        }
        StringBuilder sb = new StringBuilder();
        if (torch != null) sb.append("PyTorch: ").append(torch.path("info").toString()).append("\n\n");
        sb.append("| workload | unit | " + javaColumn + " | PyTorch eager fp32 | eager bf16 | compile bf16 | compile reduce-overhead bf16 "
                + "| Java / eager fp32 | Java / best PyTorch | params Java / PyTorch | peak MiB Java / best PyTorch |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (JavaResult r : java) {
            Map<String, JsonNode> t = byKey.getOrDefault(r.w().key(), Map.of());
            double ours = r.throughput();
            sb.append("| ").append(r.w().key()).append(" (").append(r.w().title()).append(", batch ").append(r.w().batch()).append(") | ")
                    .append(r.w().unit()).append(" | ").append(fmt(ours)).append(" |");
            double best = 0;
            JsonNode bestRun = null;
            for (String v : TORCH_VARIANTS) {
                JsonNode n = t.get(v);
                if (n == null) {
                    sb.append(" - |");
                } else {
                    double x = n.path("throughput").asDouble();
                    if (x > best) bestRun = n;
                    best = Math.max(best, x);
                    sb.append(' ').append(fmt(x)).append(" |");
                }
            }
            JsonNode eager = t.get("eager-fp32");
            sb.append(eager == null ? " - |" : String.format(Locale.ROOT, " %.2fx |", ours / eager.path("throughput").asDouble()));
            sb.append(best == 0 ? " - |" : String.format(Locale.ROOT, " %.2fx |", ours / best));
            long tp = eager == null ? -1 : eager.path("params").asLong();
            sb.append(' ').append(r.w().params() == 0 ? "-" : String.format(Locale.ROOT, "%,d / %s", r.w().params(),
                    tp < 0 ? "-" : String.format(Locale.ROOT, "%,d", tp))).append(" |");
            sb.append(String.format(Locale.ROOT, " %.0f / %s |%n", r.peakBytes() / 1048576.0,
                    bestRun == null || !bestRun.has("peak_mib") ? "-" : String.format(Locale.ROOT, "%.0f", bestRun.path("peak_mib").asDouble())));
        }
        sb.append("\nstep times (ms, median): ");
        for (JavaResult r : java) {
            sb.append(String.format(Locale.ROOT, "%s java %.3f", r.w().key(), r.t().medianMs()));
            JsonNode e = byKey.getOrDefault(r.w().key(), Map.of()).get("eager-fp32");
            if (e != null) sb.append(String.format(Locale.ROOT, " / torch eager fp32 %.3f", e.path("step_ms").asDouble()));
            sb.append("; ");
        }
        if (torch != null && torch.path("skipped").size() > 0) sb.append("\nPyTorch variants skipped (time budget): ").append(torch.path("skipped"));
        return sb.append('\n').toString();
    }

    static String fmt(double x) {
        return x >= 1000 ? String.format(Locale.ROOT, "%,.0f", x) : String.format(Locale.ROOT, "%.1f", x);
    }

    static ArrayNode javaJson(List<JavaResult> java) {
        ArrayNode a = JSON.createArrayNode();
        for (JavaResult r : java) {
            ObjectNode n = a.addObject();
            n.put("key", r.w().key()).put("title", r.w().title()).put("batch", r.w().batch()).put("unit", r.w().unit())
                    .put("throughput", r.throughput()).put("step_ms", r.t().medianMs()).put("min_ms", r.t().minMs())
                    .put("max_ms", r.t().maxMs()).put("host_ms", r.t().hostMedianMs()).put("launches", r.t().launchesPerStep())
                    .put("cublas_calls", r.cublasPerStep()).put("params", r.w().params()).put("peak_mib", r.peakBytes() / 1048576.0);
        }
        return a;
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            String name = a.substring(2);
            if (name.equals("profile") || name.equals("no-java") || name.equals("check") || name.equals("no-graphs")) o.put(name, "true");
            else if (i + 1 < args.length) o.put(name, args[++i]);
            else throw new IllegalArgumentException("--" + name + " needs a value");
        }
        return o;
    }
}
