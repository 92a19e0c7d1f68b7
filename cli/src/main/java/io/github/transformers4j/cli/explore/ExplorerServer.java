package io.github.transformers4j.cli.explore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.ImageFolder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The explorer's web server (the JDK's HttpServer): the page and its script from the jar, and a small JSON API over the
 * model. It serves nothing from the file system, so no path reaches outside; request bodies are size-limited; it binds
 * to the loopback address unless asked otherwise.
 *
 * <pre>
 * GET  /                      the page (index.html, explore.js, explore.css)
 * GET  /api/info              model: kind (text | vision), description
 * POST /api/text              {"text": ..., "untrained": false} -> tokens, special flags, layers, heads
 * POST /api/image?untrained=  image bytes (PNG, JPEG, ...) -> patch grid, layers, heads
 * GET  /api/attention?layer=L[&amp;head=H]   weights of the last input: one head (Lq x Lk) or all heads of the layer
 * GET  /api/neuron?layer=L&amp;head=H&amp;query=I   the query vector of token I, every key, their elementwise products,
 *                             the dot products (scaled by 1/sqrt(E)) and the weights
 * GET  /api/thumbs?stack=S&amp;layer=L&amp;size=64   every head of a layer shrunk to at most size x size (mean of the cells)
 * GET  /api/stats             per layer and head: entropy, mean distance, self and special-token shares
 * GET  /api/patches?layer=L&amp;heads=0,1   vision: the class token's attention over the grid (mean over queries without one)
 * GET  /api/rollout?fusion=mean&amp;discard=0.9   vision: attention rollout over the grid
 * GET  /api/export            the page and the last input's attention in one standalone HTML file (no server needed)
 * </pre>
 */
public final class ExplorerServer implements AutoCloseable {
    static final int MAX_TEXT_BYTES = 64 * 1024, MAX_IMAGE_BYTES = 16 * 1024 * 1024;
    private static final Map<String, String> PAGES = Map.of("/", "index.html", "/index.html", "index.html", "/explore.js", "explore.js",
            "/explore.css", "explore.css");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Subject subject;
    private final HttpServer http;
    private Path runDir; // a run folder whose training curves the page shows, or null
    private volatile Subject.Analysis last;
    private volatile ObjectNode lastDescribed; // the answer to the last POST, for the export
    private volatile byte[] lastImage; // the last image posted, for the export
    static final long MAX_EXPORT_VALUES = 20_000_000;

    /** A Hugging Face model folder (BERT, GPT-2, ViT). */
    public ExplorerServer(Path hfDir, String host, int port) throws IOException {
        this(Subject.open(hfDir), host, port);
    }

    /** A checkpoint of t4j train (image classifiers). */
    public static ExplorerServer forCheckpoint(Path checkpoint, String host, int port) throws IOException {
        return new ExplorerServer(Subject.checkpoint(checkpoint), host, port);
    }

    private ExplorerServer(Subject subject, String host, int port) throws IOException {
        this.subject = subject;
        http = HttpServer.create(new InetSocketAddress(host, port), 0);
        http.createContext("/", this::handle);
        http.setExecutor(Executors.newFixedThreadPool(2));
    }

    /** Also serve this run folder's metrics (the page's training view, refreshed while the run goes on). */
    public ExplorerServer withRun(Path runDir) {
        if (!Files.isDirectory(runDir)) throw new IllegalArgumentException(runDir + ": not a run folder");
        this.runDir = runDir;
        return this;
    }

    public void start() {
        http.start();
    }

    public URI uri() {
        InetSocketAddress a = http.getAddress();
        String host = a.getAddress().isAnyLocalAddress() ? "127.0.0.1" : a.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/");
    }

    @Override
    public void close() {
        http.stop(0);
        ((java.util.concurrent.ExecutorService) http.getExecutor()).shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath(), method = ex.getRequestMethod();
            try {
                if (method.equals("GET") && PAGES.containsKey(path)) page(ex, PAGES.get(path));
                else if (method.equals("GET") && path.equals("/api/info")) json(ex, 200, info());
                else if (method.equals("POST") && path.equals("/api/text")) json(ex, 200, text(ex));
                else if (method.equals("POST") && path.equals("/api/image")) json(ex, 200, image(ex));
                else if (method.equals("GET") && path.equals("/api/attention")) json(ex, 200, attention(query(ex)));
                else if (method.equals("GET") && path.equals("/api/stats")) json(ex, 200, stats(query(ex)));
                else if (method.equals("GET") && path.equals("/api/rollout")) json(ex, 200, rollout(query(ex)));
                else if (method.equals("GET") && path.equals("/api/patches")) json(ex, 200, patches(query(ex)));
                else if (method.equals("GET") && path.equals("/api/neuron")) json(ex, 200, neuron(query(ex)));
                else if (method.equals("GET") && path.equals("/api/metrics")) json(ex, 200, metrics());
                else if (method.equals("GET") && path.equals("/api/export")) export(ex);
                else if (method.equals("GET") && path.equals("/api/thumbs")) json(ex, 200, thumbs(query(ex)));
                else json(ex, 404, error("not found: " + method + " " + path));
            } catch (IllegalArgumentException | IllegalStateException e) {
                json(ex, 400, error(e.getMessage()));
            } catch (RuntimeException e) {
                json(ex, 500, error("internal error: " + e));
            }
        }
    }

    private void page(HttpExchange ex, String name) throws IOException {
        try (InputStream in = ExplorerServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            byte[] b = in.readAllBytes();
            String type = name.endsWith(".js") ? "text/javascript" : name.endsWith(".css") ? "text/css" : "text/html";
            ex.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
            ex.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'");
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        }
    }

    private ObjectNode info() {
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", subject instanceof Subject.Vision || subject instanceof Subject.Mae ? "vision" : subject instanceof Subject.Summarizer ? "seq2seq" : "text")
                .put("description", subject.description());
        if (subject instanceof Subject.Text t) n.put("causal", t.causal());
        n.put("run", runDir == null ? null : runDir.toAbsolutePath().normalize().toString());
        return n;
    }

    private ObjectNode text(HttpExchange ex) throws IOException {
        if (subject instanceof Subject.Vision) throw new IllegalArgumentException("this model takes images: POST /api/image");
        JsonNode body = JSON.readTree(body(ex, MAX_TEXT_BYTES));
        if (body == null || !body.path("text").isTextual()) throw new IllegalArgumentException("expected {\"text\": \"...\"}");
        boolean fresh = body.path("untrained").asBoolean(false);
        Subject.Analysis a = subject instanceof Subject.Text t ? t.analyse(body.get("text").asText(), body.path("textB").asText(null), fresh)
                : ((Subject.Summarizer) subject).analyse(body.get("text").asText(), body.path("target").asText(null), fresh);
        last = a;
        lastImage = null;
        return lastDescribed = described(a);
    }

    private ObjectNode image(HttpExchange ex) throws IOException {
        if (!(subject instanceof Subject.Vision || subject instanceof Subject.Mae)) throw new IllegalArgumentException("this model takes text: POST /api/text");
        byte[] bytes = body(ex, MAX_IMAGE_BYTES);
        Path tmp = Files.createTempFile("t4j-explore", ".img");
        Image img;
        try {
            Files.write(tmp, bytes);
            img = ImageFolder.read(tmp, 3, ImageFolder.Background.WHITE);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not an image: " + e.getMessage());
        } finally {
            Files.deleteIfExists(tmp);
        }
        boolean fresh = "true".equals(query(ex).get("untrained"));
        Subject.Analysis a = subject instanceof Subject.Vision v ? v.analyse(img, fresh) : ((Subject.Mae) subject).analyse(img, fresh);
        last = a;
        lastImage = bytes;
        return lastDescribed = described(a);
    }

    private static ObjectNode described(Subject.Analysis a) {
        ObjectNode n = JSON.createObjectNode().put("grid", a.grid()).put("classToken", a.classToken());
        ObjectNode images = n.putObject("images");
        a.images().forEach(images::put);
        ArrayNode stacks = n.putArray("stacks");
        for (Subject.Stack s : a.stacks()) {
            ObjectNode o = stacks.addObject().put("name", s.name()).put("layers", s.layers()).put("heads", s.heads());
            s.queries().forEach(o.putArray("queries")::add);
            s.keys().forEach(o.putArray("keys")::add);
            ArrayNode special = o.putArray("special"), segments = o.putArray("segments");
            for (boolean b : s.special()) special.add(b);
            for (int g : s.segments()) segments.add(g);
        }
        return n;
    }

    /** The stack named by ?stack= (default 0). */
    private static Subject.Stack stack(Subject.Analysis a, Map<String, String> q) {
        return a.stack(q.containsKey("stack") ? index(q, "stack", a.stacks().size()) : 0);
    }

    private Subject.Analysis last() {
        Subject.Analysis a = last;
        if (a == null) throw new IllegalStateException("no input yet: POST /api/text or /api/image first");
        return a;
    }

    private ObjectNode attention(Map<String, String> q) {
        Subject.Stack st = stack(last(), q);
        int layer = index(q, "layer", st.layers());
        var call = st.calls().get(layer);
        ObjectNode n = JSON.createObjectNode().put("layer", layer).put("queries", call.queries()).put("keys", call.keys());
        ArrayNode heads = n.putArray("heads");
        if (q.containsKey("head")) {
            int h = index(q, "head", call.heads());
            n.put("head", h);
            heads.add(row(call.head(h)));
        } else {
            for (int h = 0; h < call.heads(); h++) heads.add(row(call.head(h)));
        }
        return n;
    }

    /**
     * One HTML file with the page's script and style inlined and, as JSON, the model's description, the last input and
     * every layer's attention and statistics: it opens from disk without the server (the views that need the model,
     * the neuron view and rollout, say so there).
     */
    private void export(HttpExchange ex) throws IOException {
        Subject.Analysis a = last();
        long values = a.stacks().stream().flatMap(s -> s.calls().stream()).mapToLong(c -> c.weights().length).sum();
        if (values > MAX_EXPORT_VALUES)
            throw new IllegalArgumentException("this input has " + values + " attention weights; the export takes at most " + MAX_EXPORT_VALUES
                    + " (use a shorter input)");
        ObjectNode data = JSON.createObjectNode();
        data.set("info", info());
        data.set("input", lastDescribed);
        ArrayNode stacks = data.putArray("attention"), stats = data.putArray("stats");
        for (int i = 0; i < a.stacks().size(); i++) {
            ArrayNode layers = stacks.addArray();
            for (var c : a.stack(i).calls()) {
                ArrayNode heads = layers.addArray();
                for (int h = 0; h < c.heads(); h++) heads.add(row(c.head(h)));
            }
            stats.add(stats(Map.of("stack", Integer.toString(i))));
        }
        if (lastImage != null) data.put("image", "data:image/png;base64," + java.util.Base64.getEncoder().encodeToString(lastImage));
        if (runDir != null) data.set("metrics", metrics());
        String html = resource("index.html")
                .replace("<link rel=\"stylesheet\" href=\"explore.css\">", "<style>\n" + resource("explore.css") + "</style>")
                .replace("<script src=\"explore.js\" defer></script>", "<script type=\"application/json\" id=\"t4j-data\">"
                        + JSON.writeValueAsString(data).replace("</", "<\\/") + "</script>\n<script>\n" + resource("explore.js") + "</script>");
        byte[] b = html.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        ex.getResponseHeaders().set("Content-Disposition", "attachment; filename=\"t4j-explore.html\"");
        ex.sendResponseHeaders(200, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = ExplorerServer.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** The run's metrics.csv as read now: step rows (step, lr, train loss), epoch rows and test rows. */
    private ObjectNode metrics() {
        if (runDir == null) throw new IllegalArgumentException("no run folder (t4j explore --run DIR)");
        ObjectNode n = JSON.createObjectNode();
        ArrayNode steps = n.putArray("steps"), epochs = n.putArray("epochs"), tests = n.putArray("test");
        if (!Files.isRegularFile(runDir.resolve(io.github.transformers4j.train.MetricsLog.CSV))) return n;
        for (var r : io.github.transformers4j.train.MetricsLog.read(runDir)) {
            switch (r.kind()) {
                case io.github.transformers4j.train.MetricsRow.STEP -> steps.addArray().add(r.step()).add(num(r.lr())).add(num(r.trainLoss()));
                case io.github.transformers4j.train.MetricsRow.EPOCH -> epochs.addArray().add(r.epoch()).add(r.step()).add(num(r.trainLoss()))
                        .add(num(r.trainAcc())).add(num(r.valLoss())).add(num(r.valAcc()));
                default -> tests.addArray().add(r.epoch()).add(num(r.testLoss())).add(num(r.testAcc()));
            }
        }
        return n;
    }

    private static com.fasterxml.jackson.databind.JsonNode num(double v) {
        return Double.isFinite(v) ? JSON.getNodeFactory().numberNode(v) : JSON.getNodeFactory().nullNode();
    }

    /** A layer's heads for the model view, each averaged down to at most size x size cells (long inputs stay light). */
    private ObjectNode thumbs(Map<String, String> q) {
        Subject.Stack st = stack(last(), q);
        var c = st.calls().get(index(q, "layer", st.layers()));
        int size = Math.max(8, Math.min(256, Integer.parseInt(q.getOrDefault("size", "64")))), lq = c.queries(), lk = c.keys();
        int rows = Math.min(size, lq), cols = Math.min(size, lk);
        ObjectNode n = JSON.createObjectNode().put("rows", rows).put("cols", cols);
        ArrayNode heads = n.putArray("heads");
        for (int h = 0; h < c.heads(); h++) {
            float[] w = c.head(h), t = new float[rows * cols];
            int[] count = new int[rows * cols];
            for (int i = 0; i < lq; i++)
                for (int j = 0; j < lk; j++) {
                    int cell = (int) ((long) i * rows / lq) * cols + (int) ((long) j * cols / lk);
                    t[cell] += w[i * lk + j];
                    count[cell]++;
                }
            for (int k = 0; k < t.length; k++) t[k] /= Math.max(1, count[k]);
            heads.add(row(t));
        }
        return n;
    }

    private ObjectNode neuron(Map<String, String> q) {
        Subject.Stack st = stack(last(), q);
        int layer = index(q, "layer", st.layers());
        var c = st.calls().get(layer);
        int h = index(q, "head", c.heads()), i = index(q, "query", c.queries()), e = c.dim();
        float[] qi = java.util.Arrays.copyOfRange(c.q(), (h * c.queries() + i) * e, (h * c.queries() + i + 1) * e);
        ObjectNode n = JSON.createObjectNode().put("layer", layer).put("head", h).put("query", i);
        n.set("q", row(qi));
        ArrayNode keys = n.putArray("keys"), products = n.putArray("products"), dots = n.putArray("dots");
        for (int j = 0; j < c.keys(); j++) {
            float[] kj = java.util.Arrays.copyOfRange(c.k(), (h * c.keys() + j) * e, (h * c.keys() + j + 1) * e);
            float[] p = new float[e];
            double dot = 0;
            for (int d = 0; d < e; d++) dot += p[d] = qi[d] * kj[d];
            keys.add(row(kj));
            products.add(row(p));
            dots.add(Math.round(dot / Math.sqrt(e) * 1e6) / 1e6);
        }
        n.set("weights", row(java.util.Arrays.copyOfRange(c.head(h), i * c.keys(), (i + 1) * c.keys())));
        return n;
    }

    private ObjectNode patches(Map<String, String> q) {
        Subject.Analysis a = last();
        if (a.grid() == 0) throw new IllegalArgumentException("patches are for image models");
        Subject.Stack st = stack(a, q);
        int layer = index(q, "layer", st.layers());
        var c = st.calls().get(layer);
        java.util.List<Integer> heads = new java.util.ArrayList<>();
        for (String h : q.getOrDefault("heads", "").split(",")) if (!h.isBlank()) heads.add(index(Map.of("head", h), "head", c.heads()));
        if (heads.isEmpty()) throw new IllegalArgumentException("heads must list at least one head, e.g. heads=0,1");
        ObjectNode n = JSON.createObjectNode().put("grid", a.grid());
        n.set("patches", row(AttentionMath.patches(c, heads, a.classToken(), st.cells(), a.grid() * a.grid())));
        return n;
    }

    private static ArrayNode row(float[] w) {
        ArrayNode r = JSON.createArrayNode();
        for (float v : w) r.add(Math.round(v * 1e6) / 1e6);
        return r;
    }

    private ObjectNode stats(Map<String, String> q) {
        Subject.Analysis a = last();
        Subject.Stack st = stack(a, q);
        ObjectNode n = JSON.createObjectNode();
        ArrayNode layers = n.putArray("layers");
        for (var c : st.calls()) {
            ArrayNode heads = layers.addArray();
            for (int h = 0; h < c.heads(); h++) {
                AttentionMath.Stats s = st.isSelfAttention() ? AttentionMath.stats(c.head(h), c.queries(), st.special(), a.grid(), a.classToken())
                        : AttentionMath.crossStats(c.head(h), c.queries(), c.keys(), st.special());
                ObjectNode o = heads.addObject().put("entropy", s.entropy()).put("special", s.special());
                if (!Double.isNaN(s.meanDistance())) o.put("meanDistance", s.meanDistance()).put("self", s.self());
            }
        }
        return n;
    }

    private ObjectNode rollout(Map<String, String> q) {
        Subject.Analysis a = last();
        if (a.grid() == 0) throw new IllegalArgumentException("rollout is for Vision Transformers");
        AttentionMath.Fusion f;
        try {
            f = AttentionMath.Fusion.valueOf(q.getOrDefault("fusion", "mean").toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("fusion must be mean, max or min");
        }
        double discard;
        try {
            discard = Double.parseDouble(q.getOrDefault("discard", "0.9"));
        } catch (NumberFormatException e) {
            discard = -1;
        }
        if (!(discard >= 0 && discard < 1)) throw new IllegalArgumentException("discard must be in [0, 1)");
        ObjectNode n = JSON.createObjectNode().put("grid", a.grid());
        Subject.Stack st = stack(a, q);
        n.set("rollout", row(AttentionMath.rollout(st.calls(), f, discard, a.classToken(), st.cells(), a.grid() * a.grid())));
        return n;
    }

    private static int index(Map<String, String> q, String key, int n) {
        try {
            int i = Integer.parseInt(q.getOrDefault(key, ""));
            if (i >= 0 && i < n) return i;
        } catch (NumberFormatException ignored) {
            // the message below
        }
        throw new IllegalArgumentException(key + " must be an integer in 0.." + (n - 1) + ", got " + q.get(key));
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> m = new HashMap<>();
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) return m;
        for (String kv : q.split("&")) {
            int i = kv.indexOf('=');
            if (i > 0) m.put(java.net.URLDecoder.decode(kv.substring(0, i), StandardCharsets.UTF_8), java.net.URLDecoder.decode(kv.substring(i + 1), StandardCharsets.UTF_8));
        }
        return m;
    }

    private static byte[] body(HttpExchange ex, int limit) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(limit + 1);
            if (b.length > limit) throw new IllegalArgumentException("request body over " + limit + " bytes");
            return b;
        }
    }

    private static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }

    private static void json(HttpExchange ex, int status, JsonNode n) throws IOException {
        byte[] b = JSON.writeValueAsBytes(n);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }
}
