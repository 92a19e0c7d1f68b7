package io.github.transformers4j.cli.explore;

import io.github.transformers4j.data.text.TextPair;
import io.github.transformers4j.data.text.TextPairDataset;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
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
 * Not a test: screenshots of the explorer on a trained summarizer for docs/EXPLORE.md (the sibling of
 * {@link ExploreScreenshots}, which takes the image classifier's). Usage:
 *
 * <pre>
 * ExploreSummarizerScreenshots CHECKPOINT OUT_DIR PAIRS.jsonl ID [key=value ...]
 * </pre>
 *
 * The document of pair ID goes to the page; the decoder reads the model's greedy summary ({@code target=model}, the
 * default) or the pair's reference summary ({@code target=reference}). Keys (stacks: enc, dec, cross; token indices count
 * from 0 in the stack's query list, as the page numbers them):
 * <ul>
 *   <li>{@code enc=LAYER:TOKEN[:HEADS]}, {@code dec=...}, {@code cross=...}: the head view of that stack and layer with
 *   query TOKEN hovered ({@code -}: none), all heads or those of the comma-separated list HEADS
 *   (explore-summarizer-{enc,dec,cross}-head.png)</li>
 *   <li>{@code neuron=STACK:LAYER:HEAD:TOKEN} (explore-summarizer-neuron.png), {@code matrix=STACK:LAYER:HEAD}
 *   (explore-summarizer-matrix.png)</li>
 * </ul>
 * Always written: the model view and the statistics of the three stacks side by side (explore-summarizer-model-view.png,
 * explore-summarizer-stats.png) and the run's training curves (explore-summarizer-training.png). It prints the three
 * stacks' tokens with their indices.
 */
public final class ExploreSummarizerScreenshots {
    static final String[] STACKS = {"enc", "dec", "cross"};
    static final int WIDTH = 1100;
    private static WebDriver b;

    public static void main(String[] args) throws Exception {
        Path checkpoint = Path.of(args[0]), out = Files.createDirectories(Path.of(args[1]));
        TextPair pair = TextPairDataset.read(Path.of(args[2]), TextPairDataset.Fields.DEFAULT).pairs().stream()
                .filter(p -> p.id().equals(args[3])).findFirst().orElseThrow(() -> new IllegalArgumentException("no pair " + args[3] + " in " + args[2]));
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) opt.put(args[i].substring(0, args[i].indexOf('=')), args[i].substring(args[i].indexOf('=') + 1));
        ChromeOptions o = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=" + WIDTH + ",800", "--hide-scrollbars");
        b = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).build(), o);
        try (ExplorerServer s = ExplorerServer.forCheckpoint(checkpoint, "127.0.0.1", 0).withRun(checkpoint.getParent().getParent())) {
            s.start();
            b.get(s.uri().toString());
            waitFor(() -> js("return document.body.dataset.rendered || ''").toString().startsWith("head:"));
            b.findElement(By.id("text")).clear();
            js("document.getElementById('text').value = arguments[0]", pair.document());
            if ("reference".equals(opt.getOrDefault("target", "model"))) js("document.getElementById('target').value = arguments[0]", pair.summary());
            b.findElement(By.id("run")).click();
            waitFor(() -> "2".equals(js("return document.body.dataset.run")));
            System.out.println("pair " + pair.id() + "\n  document:  " + pair.document() + "\n  reference: " + pair.summary());
            for (int st = 0; st < 3; st++)
                System.out.println(STACKS[st] + " queries: " + indexed(js("return S.stacks[" + st + "].queries")));
            // head views: one stack and layer, all heads (or those listed), one query token hovered (or none)
            for (int st = 0; st < 3; st++) {
                if (!opt.containsKey(STACKS[st])) continue;
                String[] v = opt.get(STACKS[st]).split(":");
                stack(st, Integer.parseInt(v[0]));
                heads(v.length > 2 ? v[2] : "all");
                fit();
                if (!v[1].equals("-")) {
                    int token = Integer.parseInt(v[1]);
                    WebElement q = b.findElements(By.cssSelector("#headsvg text.q")).get(token);
                    new Actions(b).moveToElement(q).perform();
                    waitFor(() -> String.valueOf(token).equals(js("const a = document.querySelector('#headsvg text.q.active'); return a ? a.dataset.i : null")));
                }
                shot(out.resolve("explore-summarizer-" + STACKS[st] + "-head.png"));
                new Actions(b).moveToElement(b.findElement(By.tagName("header"))).perform(); // off the token: all lines again
                heads("all");
            }
            if (opt.containsKey("neuron")) {
                String[] v = opt.get("neuron").split(":");
                click("neuron");
                stack(List.of(STACKS).indexOf(v[0]), Integer.parseInt(v[1]));
                head(Integer.parseInt(v[2]));
                int token = Integer.parseInt(v[3]);
                fit();
                new Actions(b).moveToElement(b.findElements(By.cssSelector("#neuron-tokens span")).get(token)).perform();
                waitFor(() -> String.valueOf(token).equals(b.findElement(By.id("neuron")).getAttribute("data-query")));
                fit();
                shot(out.resolve("explore-summarizer-neuron.png"));
            }
            if (opt.containsKey("matrix")) {
                String[] v = opt.get("matrix").split(":");
                click("matrix");
                stack(List.of(STACKS).indexOf(v[0]), Integer.parseInt(v[1]));
                head(Integer.parseInt(v[2]));
                waitFor(() -> v[2].equals(b.findElement(By.id("matrix")).getAttribute("data-head")));
                fit();
                shot(out.resolve("explore-summarizer-matrix.png"));
            }
            // the model view and the statistics: each of the three stacks, side by side
            for (String view : new String[] {"model", "stats"}) {
                click(view);
                List<BufferedImage> parts = new ArrayList<>();
                List<String> names = new ArrayList<>();
                for (int st = 0; st < 3; st++) {
                    stack(st, 0);
                    Thread.sleep(1500);
                    fit();
                    js("document.getElementById('grid').style.display = 'inline-grid'"); // as wide as its thumbnails, not the page
                    WebElement e = b.findElement(By.id(view.equals("model") ? "grid" : "stats"));
                    parts.add(ImageIO.read(new ByteArrayInputStream(e.getScreenshotAs(OutputType.BYTES))));
                    names.add(String.valueOf(js("return S.stacks[" + st + "].name")));
                }
                String title = (view.equals("model") ? "Model view" : "Statistics") + " of " + js("return document.getElementById('model').textContent");
                ImageIO.write(sideBySide(title, names, parts), "png", out.resolve("explore-summarizer-" + (view.equals("model") ? "model-view" : "stats")
                        + ".png").toFile());
            }
            b.findElement(By.cssSelector("nav button[data-view=training]")).click();
            waitFor(() -> js("return document.body.dataset.rendered || ''").toString().startsWith("training:"));
            fit();
            shot(out.resolve("explore-summarizer-training.png"));
        } finally {
            b.quit();
        }
    }

    /** Selects a stack (0 encoder self-, 1 decoder self-, 2 cross-attention) and a layer, and waits for the view to redraw. */
    static void stack(int st, int layer) throws InterruptedException {
        new Select(b.findElement(By.id("stack"))).selectByValue(String.valueOf(st));
        waitFor(() -> ((Number) js("return S.stack")).intValue() == st);
        new Select(b.findElement(By.id("layer"))).selectByValue(String.valueOf(layer));
        waitFor(() -> js("return document.body.dataset.rendered || ''").toString().startsWith(js("return S.view") + ":" + layer + ":"));
        Thread.sleep(700);
    }

    /** Selects the heads of a comma-separated list, or all of them ("all"), with the page's head labels. */
    static void heads(String list) throws InterruptedException {
        int n = ((Number) js("return S.nheads")).intValue();
        java.util.Set<Integer> want = new java.util.TreeSet<>();
        for (int h = 0; h < n; h++) if (list.equals("all") || List.of(list.split(",")).contains(String.valueOf(h))) want.add(h);
        for (int h = 0; h < n; h++) {
            boolean on = ((Boolean) js("return S.heads.has(" + h + ")"));
            if (on != want.contains(h)) {
                b.findElement(By.id("head-" + h)).click();
                Thread.sleep(400); // a second click within the double-click interval would count as one
            }
        }
        String joined = String.join(",", want.stream().map(String::valueOf).toList());
        waitFor(() -> joined.equals(js("return [...S.heads].sort((a, b) => a - b).join(',')")));
        Thread.sleep(800);
    }

    /** Double-clicks a head's label: that head alone. */
    static void head(int h) throws InterruptedException {
        new Actions(b).doubleClick(b.findElement(By.id("head-" + h))).perform();
        waitFor(() -> js("return document.body.dataset.rendered || ''").toString().matches("[a-z]+:\\d+:" + h + ":.*"));
        Thread.sleep(700);
    }

    static void click(String view) {
        b.findElement(By.cssSelector("nav button[data-view=" + view + "]")).click();
        waitFor(() -> js("return document.body.dataset.rendered || ''").toString().startsWith(view + ":"));
    }

    /** Makes the window tall enough for the whole page, so that a screenshot holds all of it. */
    static void fit() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            int h = ((Number) js("return document.documentElement.scrollHeight")).intValue();
            int chrome = ((Number) js("return window.outerHeight - window.innerHeight")).intValue();
            if (((Number) js("return window.innerHeight")).intValue() >= h) break;
            b.manage().window().setSize(new Dimension(WIDTH, Math.max(400, h + chrome + 10)));
            Thread.sleep(400);
        }
    }

    /** The window, cropped below the page's content (the footer's bottom). */
    static void shot(Path file) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(((TakesScreenshot) b).getScreenshotAs(OutputType.BYTES)));
        double dpr = ((Number) js("return window.devicePixelRatio")).doubleValue();
        int bottom = (int) Math.ceil(((Number) js("return document.getElementById('status').getBoundingClientRect().bottom")).doubleValue() * dpr);
        BufferedImage c = img.getSubimage(0, 0, img.getWidth(), Math.min(img.getHeight(), Math.max(1, bottom)));
        ImageIO.write(c, "png", file.toFile());
        System.out.println("wrote " + file + " (" + c.getWidth() + " x " + c.getHeight() + ", " + Files.size(file) / 1024 + " KB)");
    }

    /** Element screenshots of the three stacks beside each other, each under its stack's name, under a title. */
    static BufferedImage sideBySide(String title, List<String> names, List<BufferedImage> parts) {
        int gap = 24, top = 30, caption = 22, w = gap, h = 0;
        for (BufferedImage p : parts) {
            w += p.getWidth() + gap;
            h = Math.max(h, p.getHeight());
        }
        BufferedImage out = new BufferedImage(w, top + caption + h + gap / 2, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setColor(new Color(0x22, 0x22, 0x33));
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, gap, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        int x = gap;
        for (int i = 0; i < parts.size(); i++) {
            g.drawString(names.get(i), x, top + 14);
            g.drawImage(parts.get(i), x, top + caption, null);
            x += parts.get(i).getWidth() + gap;
        }
        g.dispose();
        System.out.println(title + ": " + out.getWidth() + " x " + out.getHeight());
        return out;
    }

    static String indexed(Object list) {
        StringBuilder s = new StringBuilder();
        int i = 0;
        for (Object t : (List<?>) list) s.append(i++).append('=').append('"').append(t).append("\" ");
        return s.toString();
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) b).executeScript(script, args);
    }

    static void waitFor(java.util.function.BooleanSupplier c) {
        new WebDriverWait(b, Duration.ofSeconds(30)).until(d -> c.getAsBoolean());
    }
}
