package io.github.transformers4j.cli.explore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.transformers4j.data.text.tokenizer.AutoTokenizer;
import io.github.transformers4j.data.text.tokenizer.BpeTrainer;
import io.github.transformers4j.models.ModelOutput;
import io.github.transformers4j.models.bert.BertConfig;
import io.github.transformers4j.models.bert.BertModel;
import io.github.transformers4j.models.gpt2.GPT2Config;
import io.github.transformers4j.models.gpt2.GPT2Model;
import io.github.transformers4j.models.hf.HfModels;
import io.github.transformers4j.models.vit.ViTModel;
import io.github.transformers4j.nn.Activation;
import io.github.transformers4j.tensor.Random4j;
import io.github.transformers4j.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * {@code t4j explore} end to end: the server on a random port with tiny random BERT, GPT-2 and ViT folders, driven in a
 * real headless Chromium (Debian's chromium + chromium-driver; .ci/run installs them and sets T4J_REQUIRE_BROWSER=1, which
 * turns their absence into a failure). Screenshots go to cli/target/explore-screens/.
 */
class ExplorerTest {
    @TempDir
    static Path dir;
    static WebDriver browser;
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path SCREENS = Path.of("target/explore-screens");

    @BeforeAll
    static void browser() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium"), driver = Path.of("/usr/bin/chromedriver");
        boolean have = Files.isExecutable(chromium) && Files.isExecutable(driver);
        if (!have && System.getenv("T4J_REQUIRE_BROWSER") != null)
            throw new IllegalStateException("T4J_REQUIRE_BROWSER is set but " + chromium + " or " + driver + " is missing (apt-get install chromium chromium-driver)");
        Assumptions.assumeTrue(have, "no chromium + chromedriver: apt-get install chromium chromium-driver");
        ChromeOptions o = new ChromeOptions().setBinary(chromium.toFile()).addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1200,900");
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(driver.toFile()).build(), o);
        Files.createDirectories(SCREENS);
    }

    @AfterAll
    static void close() {
        if (browser != null) browser.quit();
    }

    static Path bert() throws Exception {
        Path d = dir.resolve("bert");
        Files.createDirectories(d);
        Files.write(d.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "because",
                "it", "was", "tired", "."));
        HfModels.savePretrained(new BertModel(new BertConfig(15, 16, 2, 4, 32, Activation.GELU, 0, 0, 32, 2, 1e-12, 0.3, 0), true, new Random4j(1)), d, null);
        return d;
    }

    static Path gpt2() {
        Path d = dir.resolve("gpt2");
        BpeTrainer t = new BpeTrainer(3 + 256 + 30, 1);
        List.of("the cat sat on the mat", "it was tired").forEach(t::feed);
        var tok = t.train();
        HfModels.savePretrained(new GPT2Model(new GPT2Config(tok.vocabSize(), 64, 16, 3, 2, 64, Activation.GELU_TANH, 0, 0, 0, 1e-5, 0.3, true,
                false, 1, 1), new Random4j(2)), d, null);
        tok.save(d.resolve("tokenizer.json"));
        return d;
    }

    static Path vit() throws Exception {
        Path d = dir.resolve("vit");
        HfModels.savePretrained(new ViTModel(new ViTModel.Config(16, 2, 4, 32, Activation.GELU, 0, 0, 0.3, 1e-12, 32, 8, 3, true), false,
                new Random4j(3)), d, null);
        return d;
    }

    static void open(ExplorerServer s) {
        browser.get(s.uri().toString());
        waitFor(() -> body("rendered") != null);
    }

    static String body(String key) {
        return browser.findElement(By.tagName("body")).getAttribute("data-" + key);
    }

    static void waitFor(java.util.function.Supplier<Boolean> c) {
        new WebDriverWait(browser, Duration.ofSeconds(20)).withMessage(() -> "page status: " + browser.findElement(By.id("status")).getText()
                + "; rendered: " + body("rendered")).until(d -> c.get());
    }

    static void shot(String name) throws Exception {
        Files.write(SCREENS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    static List<WebElement> visibleLines() {
        return browser.findElements(By.cssSelector("#headsvg line:not(.hidden)"));
    }

    static void click(String view) {
        browser.findElement(By.cssSelector("nav button[data-view=" + view + "]")).click();
        waitFor(() -> String.valueOf(body("rendered")).startsWith(view + ":"));
    }

    @Test
    void bertHeadViewModelViewMatrixAndStatistics() throws Exception {
        try (ExplorerServer s = new ExplorerServer(bert(), "127.0.0.1", 0)) {
            s.start();
            open(s);
            assertThat(browser.findElement(By.id("model")).getText()).contains("BERT", "2 layers", "4 heads");
            int all = visibleLines().size();
            assertThat(all).isPositive();
            shot("bert-head-view");
            // hovering a query token keeps only its lines
            WebElement cat = browser.findElements(By.cssSelector("#headsvg text.q")).get(2);
            new Actions(browser).moveToElement(cat).perform();
            waitFor(() -> visibleLines().size() < all);
            assertThat(visibleLines()).allSatisfy(l -> assertThat(l.getAttribute("data-q")).isEqualTo("2"));
            waitFor(() -> browser.findElements(By.cssSelector("#headsvg text.q.active")).size() == 1);
            assertThat(browser.findElement(By.cssSelector("#headsvg text.q.active")).getAttribute("data-i")).isEqualTo("2");
            shot("bert-head-view-hover");
            new Actions(browser).moveByOffset(400, 300).perform();
            waitFor(() -> visibleLines().size() == all);
            // another layer, then one head toggled off, then one head alone
            String before = body("rendered");
            new Select(browser.findElement(By.id("layer"))).selectByValue("1");
            waitFor(() -> !body("rendered").equals(before) && body("rendered").startsWith("head:1:"));
            browser.findElement(By.id("head-0")).click();
            waitFor(() -> body("rendered").startsWith("head:1:1,2,3"));
            assertThat(visibleLines()).noneSatisfy(l -> assertThat(l.getAttribute("data-head")).isEqualTo("0"));
            new Actions(browser).doubleClick(browser.findElement(By.id("head-2"))).perform();
            waitFor(() -> body("rendered").startsWith("head:1:2:"));
            assertThat(visibleLines()).isNotEmpty().allSatisfy(l -> assertThat(l.getAttribute("data-head")).isEqualTo("2"));
            // the model view: layers x heads thumbnails; a click opens that head as a matrix
            click("model");
            assertThat(browser.findElements(By.cssSelector("#grid canvas"))).hasSize(8);
            shot("bert-model-view");
            browser.findElement(By.id("thumb-0-3")).click();
            waitFor(() -> body("rendered").startsWith("matrix:0:3:"));
            assertThat(browser.findElement(By.id("matrix")).getAttribute("data-head")).isEqualTo("3");
            shot("bert-matrix");
            click("stats");
            assertThat(browser.findElements(By.cssSelector("#stats tr"))).hasSize(1 + 2 * 4);
            shot("bert-stats");
            // the neuron view: hovering a token shows its query against every key; the softmax column sums to 100%
            click("neuron");
            int tokens = browser.findElements(By.cssSelector("#neuron-tokens span")).size();
            new Actions(browser).moveToElement(browser.findElements(By.cssSelector("#neuron-tokens span")).get(3)).perform();
            waitFor(() -> "3".equals(browser.findElement(By.id("neuron")).getAttribute("data-query")));
            assertThat(browser.findElements(By.cssSelector("#neuron tr[data-key]"))).hasSize(tokens);
            double sum = browser.findElements(By.cssSelector("#neuron td.weight")).stream()
                    .mapToDouble(td -> Double.parseDouble(td.getText().replace("%", ""))).sum();
            assertThat(sum).isCloseTo(100, org.assertj.core.data.Offset.offset(0.5));
            shot("bert-neuron-view");
            // the freshly initialised model gives other weights for the same text
            String w = get(s, "/api/attention?layer=0&head=0");
            browser.findElement(By.id("untrained")).click();
            waitFor(() -> "2".equals(body("run")));
            assertThat(get(s, "/api/attention?layer=0&head=0")).isNotEqualTo(w);
        }
    }

    @Test
    void sentencePairsCanBeFilteredByDirection() throws Exception {
        try (ExplorerServer s = new ExplorerServer(bert(), "127.0.0.1", 0)) {
            s.start();
            open(s);
            assertThat(browser.findElement(By.id("pair-label")).isDisplayed()).isFalse();
            browser.findElement(By.id("text-b")).sendKeys("it was tired .");
            browser.findElement(By.id("run")).click();
            waitFor(() -> String.valueOf(body("rendered")).endsWith(":2:all") && browser.findElement(By.id("pair-label")).isDisplayed());
            List<String> tokens = browser.findElements(By.cssSelector("#headsvg text.q")).stream().map(WebElement::getText).toList();
            int firstB = tokens.indexOf("[SEP]") + 1;
            assertThat(firstB).isPositive().isLessThan(tokens.size() - 1);
            new Select(browser.findElement(By.id("pairfilter"))).selectByValue("01");
            waitFor(() -> body("rendered").endsWith(":01"));
            assertThat(visibleLines()).isNotEmpty().allSatisfy(l -> {
                assertThat(Integer.parseInt(l.getAttribute("data-q"))).isLessThan(firstB);
                assertThat(Integer.parseInt(l.getAttribute("data-k"))).isGreaterThanOrEqualTo(firstB);
            });
            shot("bert-pair-a-to-b");
            // the whole exploration as one file: it opens from disk, with no server, and shows the same lines
            Path html = SCREENS.resolve("export.html");
            Files.writeString(html, get(s, "/api/export"));
            assertThat(Files.readString(html)).doesNotContain("src=\"explore.js\"").contains("id=\"t4j-data\"");
            int lines = visibleLines().size();
            s.close();
            browser.get(html.toUri().toString());
            waitFor(() -> body("rendered") != null && body("rendered").startsWith("head:"));
            assertThat(browser.findElement(By.id("model")).getAttribute("data-exported")).isEqualTo("true");
            new Select(browser.findElement(By.id("pairfilter"))).selectByValue("01");
            waitFor(() -> body("rendered").endsWith(":01"));
            assertThat(visibleLines()).hasSize(lines);
            shot("bert-exported-html");
        }
    }

    @Test
    void theWeightsThePageGetsAreTheModulesOwn() throws Exception {
        Path d = bert();
        try (ExplorerServer s = new ExplorerServer(d, "127.0.0.1", 0)) {
            s.start();
            String text = "the cat sat on the mat";
            JsonNode r = JSON.readTree(post(s, "/api/text", "{\"text\": \"" + text + "\"}"));
            assertThat(r.get("stacks").get(0).get("queries").toString()).isEqualTo("[\"[CLS]\",\"the\",\"cat\",\"sat\",\"on\",\"the\",\"mat\",\"[SEP]\"]");
            JsonNode served = JSON.readTree(get(s, "/api/attention?layer=1&head=2")).get("heads").get(0);
            int[] ids = AutoTokenizer.fromPretrained(d).encode(text, true);
            Tensor own = BertModel.fromPretrained(d).forward(Tensor.ofLongs(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length), null, null,
                    ModelOutput.Want.ALL).attentions().get(1).select(1, 2).contiguous(); // (1, L, L)
            float[] w = own.toFloatArray();
            assertThat(served.size()).isEqualTo(w.length);
            for (int i = 0; i < w.length; i++) assertThat(served.get(i).asDouble()).isCloseTo(w[i], org.assertj.core.data.Offset.offset(1e-6));
        }
    }

    @Test
    void fiveHundredTwelveTokensTwelveLayersTwelveHeadsStayResponsive() throws Exception {
        Path d = dir.resolve("bert-12x12");
        Files.createDirectories(d);
        Files.write(d.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "."));
        HfModels.savePretrained(new BertModel(new BertConfig(11, 48, 12, 12, 96, Activation.GELU, 0, 0, 512, 2, 1e-12, 0.3, 0), true,
                new Random4j(4)), d, null);
        try (ExplorerServer s = new ExplorerServer(d, "127.0.0.1", 0)) {
            s.start();
            open(s);
            WebElement text = browser.findElement(By.id("text"));
            text.clear();
            ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("arguments[0].value = arguments[1]", text,
                    "the cat sat on the mat . ".repeat(85)); // 510 words + [CLS] and [SEP]
            long t0 = System.nanoTime();
            browser.findElement(By.id("run")).click();
            waitFor(() -> String.valueOf(body("rendered")).startsWith("head:0:") && body("rendered").endsWith(":2:all"));
            double head = (System.nanoTime() - t0) / 1e9;
            assertThat(browser.findElements(By.cssSelector("#headsvg text.q"))).hasSize(512);
            assertThat(visibleLines().size()).isLessThanOrEqualTo(20000);
            t0 = System.nanoTime();
            click("model");
            double model = (System.nanoTime() - t0) / 1e9;
            assertThat(browser.findElements(By.cssSelector("#grid canvas"))).hasSize(144);
            t0 = System.nanoTime();
            new Actions(browser).moveToElement(browser.findElement(By.id("thumb-11-11"))).click().perform();
            waitFor(() -> body("rendered").startsWith("matrix:11:11:"));
            double matrix = (System.nanoTime() - t0) / 1e9;
            System.out.printf("explorer, 512 tokens x 12 layers x 12 heads: run + head view %.1f s, model view %.1f s, one head's matrix %.1f s%n",
                    head, model, matrix);
            shot("bert-512-model-view");
            assertThat(head).isLessThan(20);
            assertThat(model).isLessThan(20);
            assertThat(matrix).isLessThan(10);
        }
    }

    @Test
    void gpt2AttendsOnlyBackwards() throws Exception {
        try (ExplorerServer s = new ExplorerServer(gpt2(), "127.0.0.1", 0)) {
            s.start();
            open(s);
            assertThat(browser.findElement(By.id("model")).getText()).contains("GPT-2", "3 layers");
            assertThat(visibleLines()).isNotEmpty().allSatisfy(l ->
                    assertThat(Integer.parseInt(l.getAttribute("data-k"))).isLessThanOrEqualTo(Integer.parseInt(l.getAttribute("data-q"))));
            shot("gpt2-head-view");
        }
    }

    @Test
    void vitShowsClassTokenAttentionAndRolloutOverTheImage() throws Exception {
        Path png = dir.resolve("stripes.png");
        BufferedImage img = new BufferedImage(48, 48, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 48; y++) for (int x = 0; x < 48; x++) img.setRGB(x, y, (x / 6) % 2 == 0 ? 0xE04020 : 0x2040E0);
        ImageIO.write(img, "png", png.toFile());
        try (ExplorerServer s = new ExplorerServer(vit(), "127.0.0.1", 0)) {
            s.start();
            browser.get(s.uri().toString());
            waitFor(() -> browser.findElement(By.id("model")).getText().contains("ViT"));
            browser.findElement(By.id("file")).sendKeys(png.toString());
            waitFor(() -> String.valueOf(body("rendered")).startsWith("image:"));
            double heads = Double.parseDouble(browser.findElement(By.id("overlay")).getAttribute("data-sum"));
            assertThat(heads).isPositive();
            shot("vit-heads");
            browser.findElement(By.cssSelector("input[name=imgmode][value=rollout]")).click();
            waitFor(() -> !browser.findElement(By.id("overlay")).getAttribute("data-sum").equals(String.format(java.util.Locale.ROOT, "%.4f", heads)));
            shot("vit-rollout");
            JsonNode roll = JSON.readTree(get(s, "/api/rollout?fusion=max&discard=0.5"));
            assertThat(roll.get("rollout").size()).isEqualTo(16);
            assertThat(get(s, "/api/rollout?fusion=median")).contains("fusion must be");
        }
    }

    @Test
    void aCheckpointOfTheZoosVitShowsItsAttentionThroughTheSameCapture() throws Exception {
        Path data = dir.resolve("icons"), run = dir.resolve("run");
        io.github.transformers4j.cli.ImageFolderTrainTest.icons(data.resolve("train"), 20, 1);
        var r = io.github.transformers4j.cli.T4jTest.t4j("train", "--model", "vit-mini-p4", "--dataset", "imagefolder:" + data, "--epochs", "1",
                "--batch-size", "20", "--out", run.toString(), "--no-progress", "--workers", "0", "--no-test");
        assertThat(r.code()).as(r.err()).isZero();
        Path png = dir.resolve("icon.png");
        Files.copy(data.resolve("train/vertical/000.png"), png);
        try (ExplorerServer s = ExplorerServer.forCheckpoint(run.resolve("checkpoints/last.safetensors"), "127.0.0.1", 0)) {
            s.start();
            browser.get(s.uri().toString());
            waitFor(() -> browser.findElement(By.id("model")).getText().contains("vit-mini-p4"));
            browser.findElement(By.id("file")).sendKeys(png.toString());
            waitFor(() -> String.valueOf(body("rendered")).startsWith("image:"));
            assertThat(browser.findElement(By.id("model")).getText()).contains("4 layers", "4 heads");
            assertThat(Double.parseDouble(browser.findElement(By.id("overlay")).getAttribute("data-sum"))).isPositive();
            JsonNode p = JSON.readTree(get(s, "/api/patches?layer=3&heads=0,1,2,3"));
            assertThat(p.get("grid").asInt()).isEqualTo(4); // 16x16 icons, patch 4
            shot("zoo-vit-checkpoint");
        }
        // the run folder: its training curves, from metrics.csv
        try (ExplorerServer s = ExplorerServer.forCheckpoint(run.resolve("checkpoints/last.safetensors"), "127.0.0.1", 0).withRun(run)) {
            s.start();
            browser.get(s.uri().toString());
            waitFor(() -> browser.findElement(By.id("training-tab")).isDisplayed());
            click("training");
            assertThat(body("rendered")).isEqualTo("training:" + JSON.readTree(get(s, "/api/metrics")).get("steps").size() + ":1");
            assertThat(browser.findElements(By.cssSelector("#chart-loss polyline"))).hasSizeGreaterThanOrEqualTo(2);
            assertThat(browser.findElements(By.cssSelector("#chart-lr polyline"))).hasSize(1);
            shot("zoo-vit-training");
        }
    }

    @Test
    void aSummarizerShowsEncoderDecoderAndCrossAttention() throws Exception {
        Path data = dir.resolve("pairs"), run = dir.resolve("s2s");
        String[] things = {"web server", "text editor", "image viewer", "music player"}, langs = {"Python", "Rust", "Java"};
        List<io.github.transformers4j.data.text.TextPair> pairs = new java.util.ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String t = things[i % 4], l = langs[(i / 4) % 3];
            pairs.add(new io.github.transformers4j.data.text.TextPair("p" + i, "This package provides a small " + t + " written in " + l + ".", t + " in " + l));
        }
        io.github.transformers4j.data.text.TextPairDataset.writeJsonl(data.resolve("train.jsonl"), pairs);
        io.github.transformers4j.data.text.TextPairDataset.writeJsonl(data.resolve("validation.jsonl"), pairs.subList(0, 4));
        var d = io.github.transformers4j.recipes.SummarizationConfig.defaults("summarizer-tiny", "jsonl:" + data);
        var cfg = new io.github.transformers4j.recipes.SummarizationConfig(d.model(), d.dataset(), null, 300, 32, 8, 1, 8, 1e-3, 0.01, 0.1, 1.0, 7,
                "cpu", 2, 0, 0, 0, 4, 2, 1.0, 0, 8, "document", "summary");
        io.github.transformers4j.recipes.SummarizationRecipe.train(cfg, run, false, new io.github.transformers4j.recipes.SummarizationRecipe.Session(
                new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), false));
        try (ExplorerServer s = ExplorerServer.forCheckpoint(run.resolve("checkpoints/last.safetensors"), "127.0.0.1", 0)) {
            s.start();
            browser.get(s.uri().toString());
            waitFor(() -> body("rendered") != null);
            assertThat(browser.findElement(By.id("stack-label")).isDisplayed()).isTrue();
            JsonNode r = JSON.readTree(post(s, "/api/text", "{\"text\": \"This package provides a small text editor written in Rust.\", "
                    + "\"target\": \"text editor in Rust\"}"));
            assertThat(r.get("stacks")).hasSize(3);
            JsonNode cross = r.get("stacks").get(2);
            assertThat(cross.get("name").asText()).isEqualTo("cross-attention");
            int src = r.get("stacks").get(0).get("queries").size(), tgt = r.get("stacks").get(1).get("queries").size();
            assertThat(cross.get("queries").size()).isEqualTo(tgt);
            assertThat(cross.get("keys").size()).isEqualTo(src);
            assertThat(JSON.readTree(get(s, "/api/attention?stack=2&layer=0&head=0")).get("heads").get(0).size()).isEqualTo(src * tgt);
            // in the page: the cross-attention head view joins decoder tokens (left) to encoder tokens (right)
            browser.findElement(By.id("run")).click();
            waitFor(() -> "2".equals(body("run")));
            new Select(browser.findElement(By.id("stack"))).selectByVisibleText("cross-attention");
            waitFor(() -> browser.findElements(By.cssSelector("#headsvg text.k")).size() != browser.findElements(By.cssSelector("#headsvg text.q")).size());
            int keys = browser.findElements(By.cssSelector("#headsvg text.k")).size();
            assertThat(visibleLines()).isNotEmpty().allSatisfy(l -> assertThat(Integer.parseInt(l.getAttribute("data-k"))).isLessThan(keys));
            shot("summarizer-cross-attention");
            new Select(browser.findElement(By.id("stack"))).selectByVisibleText("decoder self-attention");
            waitFor(() -> browser.findElements(By.cssSelector("#headsvg text.k")).size() == browser.findElements(By.cssSelector("#headsvg text.q")).size());
            assertThat(visibleLines()).allSatisfy(l ->
                    assertThat(Integer.parseInt(l.getAttribute("data-k"))).isLessThanOrEqualTo(Integer.parseInt(l.getAttribute("data-q"))));
        }
    }

    @Test
    void aMaskedAutoencoderShowsItsVisiblePatchesReconstructionAndAttention() throws Exception {
        Path data = dir.resolve("mae-icons"), run = dir.resolve("mae");
        io.github.transformers4j.cli.ImageFolderTrainTest.icons(data.resolve("train"), 16, 3);
        var r = io.github.transformers4j.cli.T4jTest.t4j("pretrain", "--model", "mae-tiny", "--dataset", "imagefolder:" + data, "--epochs", "1",
                "--batch-size", "16", "--out", run.toString(), "--no-progress", "--workers", "0");
        assertThat(r.code()).as(r.err()).isZero();
        Path png = dir.resolve("mae-icon.png");
        Files.copy(data.resolve("train/diagonal/000.png"), png);
        try (ExplorerServer s = ExplorerServer.forCheckpoint(run.resolve("checkpoints/last.safetensors"), "127.0.0.1", 0)) {
            s.start();
            browser.get(s.uri().toString());
            waitFor(() -> browser.findElement(By.id("model")).getText().contains("masked autoencoder"));
            browser.findElement(By.id("file")).sendKeys(png.toString());
            waitFor(() -> String.valueOf(body("rendered")).startsWith("image:"));
            assertThat(browser.findElements(By.cssSelector("#images img"))).hasSize(3);
            assertThat(browser.findElements(By.cssSelector("#images figcaption")).stream().map(WebElement::getText).toList())
                    .containsExactly("original", "masked 75%", "reconstruction");
            // the encoder sees the visible quarter: its class token's attention lands only on visible cells
            JsonNode enc = JSON.readTree(get(s, "/api/patches?stack=0&layer=0&heads=0"));
            long lit = 0;
            for (JsonNode v : enc.get("patches")) if (v.asDouble() > 0) lit++;
            assertThat(lit).isPositive().isLessThanOrEqualTo(4); // 16 patches of 4x4 on a 16x16 icon, 25% visible
            JsonNode dec = JSON.readTree(get(s, "/api/patches?stack=1&layer=0&heads=0"));
            assertThat(dec.get("patches")).hasSize(16);
            shot("mae");
        }
    }

    @Test
    void onlyItsOwnPagesAreServedAndBodiesAreLimited() throws Exception {
        try (ExplorerServer s = new ExplorerServer(bert(), "127.0.0.1", 0)) {
            s.start();
            for (String path : List.of("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/explore.js/../../../etc/passwd",
                    "//etc/passwd", "/index.html%00.js")) {
                String response = raw(s, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                assertThat(response).as(path).doesNotContain("root:").matches("(?s)HTTP/1\\.1 (400|404).*");
            }
            assertThat(raw(s, "GET /explore.js HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
            String big = "{\"text\": \"" + "a".repeat(ExplorerServer.MAX_TEXT_BYTES) + "\"}";
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(s.uri().resolve("/api/text"))
                    .POST(HttpRequest.BodyPublishers.ofString(big)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).contains("over " + ExplorerServer.MAX_TEXT_BYTES + " bytes");
            assertThat(s.uri().getHost()).isEqualTo("127.0.0.1");
        }
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new ExplorerServer(dir.resolve("none"), "127.0.0.1", 0)))
                .hasMessageContaining("not a directory");
    }

    static String get(ExplorerServer s, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(s.uri().resolve(path)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static String post(ExplorerServer s, String path, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(s.uri().resolve(path)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    static String raw(ExplorerServer s, String request) throws Exception {
        URI u = s.uri();
        try (Socket sock = new Socket(u.getHost(), u.getPort()); OutputStream o = sock.getOutputStream(); InputStream in = sock.getInputStream()) {
            o.write(request.getBytes(StandardCharsets.ISO_8859_1));
            o.flush();
            sock.setSoTimeout(5000);
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
