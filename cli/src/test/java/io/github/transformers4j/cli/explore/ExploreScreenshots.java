package io.github.transformers4j.cli.explore;

import io.github.transformers4j.data.DataLocator;
import io.github.transformers4j.data.vision.Image;
import io.github.transformers4j.data.vision.VisionDatasets;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.imageio.ImageIO;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Not a test: screenshots of the explorer on a trained image classifier for docs/EXPLORE.md. Usage:
 * {@code ExploreScreenshots CHECKPOINT OUT_DIR [TEST_INDEX...]}: Fashion-MNIST test images (written as PNG) go through
 * the page's image view (heads of the last layer, then rollout) and its model view.
 */
public final class ExploreScreenshots {
    public static void main(String[] args) throws Exception {
        Path checkpoint = Path.of(args[0]), out = Files.createDirectories(Path.of(args[1]));
        var test = VisionDatasets.open("fashion-mnist", false, DataLocator.standard(null));
        ChromeOptions o = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments("--headless=new", "--no-sandbox", "--disable-gpu",
                "--window-size=1100,760");
        WebDriver b = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).build(), o);
        try (ExplorerServer s = ExplorerServer.forCheckpoint(checkpoint, "127.0.0.1", 0).withRun(checkpoint.getParent().getParent())) {
            s.start();
            for (int a = 2; a < args.length; a++) {
                int index = Integer.parseInt(args[a]);
                var sample = test.get(index);
                Path png = out.resolve("fashion-test-" + index + ".png");
                write(sample.image(), png);
                b.get(s.uri().toString());
                WebDriverWait wait = new WebDriverWait(b, Duration.ofSeconds(30));
                b.findElement(By.id("file")).sendKeys(png.toAbsolutePath().toString());
                wait.until(d -> String.valueOf(d.findElement(By.tagName("body")).getAttribute("data-rendered")).startsWith("image:"));
                new Select(b.findElement(By.id("layer"))).selectByValue("3");
                wait.until(d -> d.findElement(By.tagName("body")).getAttribute("data-rendered").startsWith("image:3:"));
                shot(b, out.resolve("explore-vit-heads-" + index + ".png"));
                b.findElement(By.cssSelector("input[name=imgmode][value=rollout]")).click();
                Thread.sleep(1500);
                shot(b, out.resolve("explore-vit-rollout-" + index + ".png"));
                System.out.println("label of test image " + index + ": " + test.classes().get(sample.label()));
                Files.delete(png);
            }
            b.findElement(By.cssSelector("nav button[data-view=model]")).click();
            Thread.sleep(2500);
            shot(b, out.resolve("explore-vit-model-view.png"));
            b.findElement(By.cssSelector("nav button[data-view=training]")).click();
            Thread.sleep(2500);
            shot(b, out.resolve("explore-training.png"));
        } finally {
            b.quit();
        }
    }

    static void write(Image im, Path file) throws Exception {
        BufferedImage bi = new BufferedImage(im.width(), im.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < im.height(); y++)
            for (int x = 0; x < im.width(); x++) {
                int v = Math.round(im.get(0, y, x));
                bi.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        ImageIO.write(bi, "png", file.toFile());
    }

    static void shot(WebDriver b, Path file) throws Exception {
        Files.write(file, ((TakesScreenshot) b).getScreenshotAs(OutputType.BYTES));
    }
}
