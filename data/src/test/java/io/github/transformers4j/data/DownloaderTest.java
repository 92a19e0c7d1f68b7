package io.github.transformers4j.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DownloaderTest {
    // MD5 of "hello\n" (as md5sum prints it) and of the empty string (RFC 1321 test suite).
    static final String HELLO_MD5 = "b1946ac92492d2347c6235b4d2611184";
    static final String EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";

    @TempDir
    Path tmp;
    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            requests.incrementAndGet();
            byte[] body = files.get(ex.getRequestURI().getPath().substring(1));
            if (body == null) {
                ex.sendResponseHeaders(404, -1);
            } else {
                ex.sendResponseHeaders(200, body.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    List<Path> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".part")).toList();
        }
    }

    @Test
    void md5OfKnownContents() throws IOException {
        Files.writeString(tmp.resolve("h"), "hello\n");
        Files.write(tmp.resolve("e"), new byte[0]);
        assertThat(Downloader.md5(tmp.resolve("h"))).isEqualTo(HELLO_MD5);
        assertThat(Downloader.md5(tmp.resolve("e"))).isEqualTo(EMPTY_MD5);
    }

    @Test
    void downloadsOverHttpWithChecksumAndProgressBar() throws IOException {
        files.put("hello.txt", "hello\n".getBytes(StandardCharsets.US_ASCII));
        Path target = tmp.resolve("sub/dir/hello.txt");
        assertThat(Downloader.download(base().resolve("hello.txt"), target, HELLO_MD5, true)).isEqualTo(target);
        assertThat(Files.readString(target)).isEqualTo("hello\n");
        assertThat(leftovers(target.getParent())).isEmpty();
        // already there with the right checksum: no second request
        int before = requests.get();
        Downloader.download(base().resolve("hello.txt"), target, HELLO_MD5, false);
        assertThat(requests.get()).isEqualTo(before);
    }

    @Test
    void checksumMismatchLeavesNoFileBehind() throws IOException {
        files.put("hello.txt", "hellO\n".getBytes(StandardCharsets.US_ASCII));
        Path target = tmp.resolve("hello.txt");
        assertThatThrownBy(() -> Downloader.download(base().resolve("hello.txt"), target, HELLO_MD5, false))
                .isInstanceOf(DatasetException.class)
                .hasMessageContaining("MD5 mismatch, expected " + HELLO_MD5 + ", got ")
                .hasMessageContaining("(6 bytes)");
        assertThat(target).doesNotExist();
        assertThat(leftovers(tmp)).isEmpty();
    }

    @Test
    void aFailedDownloadLeavesNoFoldersBehind() throws IOException {
        Files.createDirectories(tmp.resolve("data"));
        Path target = tmp.resolve("data/fashion-mnist/raw/train.gz");
        assertThatThrownBy(() -> Downloader.download(base().resolve("missing.bin"), target, HELLO_MD5, false))
                .isInstanceOf(DatasetException.class).hasMessageContaining("HTTP 404");
        assertThat(tmp.resolve("data/fashion-mnist")).doesNotExist(); // made by the call, removed again
        assertThat(tmp.resolve("data")).isDirectory();                  // there before: kept
    }

    @Test
    void aFailedDownloadKeepsTheOldFileIntact() throws IOException {
        Path target = tmp.resolve("data.bin");
        Files.writeString(target, "old contents");
        assertThatThrownBy(() -> Downloader.download(base().resolve("missing.bin"), target, HELLO_MD5, false))
                .hasMessageContaining("HTTP 404");
        assertThat(Files.readString(target)).isEqualTo("old contents");
        assertThat(leftovers(tmp)).isEmpty();
    }

    @Test
    void fileUrisWork() throws IOException {
        Path src = tmp.resolve("src.txt");
        Files.writeString(src, "hello\n");
        Path target = tmp.resolve("out/copy.txt");
        Downloader.download(src.toUri(), target, HELLO_MD5, false);
        assertThat(Files.readString(target)).isEqualTo("hello\n");
    }

    @Test
    void locatorDownloadsMissingFilesIntoTheCacheAndFindsThemNextTime() throws IOException {
        files.put("a.bin.gz", "hello\n".getBytes(StandardCharsets.US_ASCII));
        files.put("b.bin", new byte[0]);
        DatasetSource source = new DatasetSource("toy", List.of(), List.of(), List.of("a.bin[.gz]", "b.bin"),
                new DatasetSource.Remote(base(), Map.of("a.bin.gz", HELLO_MD5, "b.bin", EMPTY_MD5)), "make it by hand");
        DataLocator locator = new DataLocator(null, tmp.resolve("work"), tmp.resolve("cache"), true, false);
        Path dir = locator.locate(source);
        assertThat(dir).isEqualTo(tmp.resolve("cache/toy"));
        assertThat(dir.resolve("a.bin.gz")).hasContent("hello");
        int before = requests.get();
        assertThat(locator.locate(source)).isEqualTo(dir);
        assertThat(requests.get()).isEqualTo(before);
    }

    @Test
    void locatorWithADataDirDownloadsThere() {
        files.put("b.bin", new byte[0]);
        DatasetSource source = new DatasetSource("toy", List.of(), List.of(), List.of("b.bin"),
                new DatasetSource.Remote(base(), Map.of("b.bin", EMPTY_MD5)), "make it by hand");
        Path dataDir = tmp.resolve("mine");
        DataLocator locator = new DataLocator(dataDir, tmp.resolve("work"), tmp.resolve("cache"), true, false);
        assertThat(locator.locate(source)).isEqualTo(dataDir.resolve("toy"));
        assertThat(tmp.resolve("cache")).doesNotExist();
    }

    @Test
    void notFoundListsEveryPlaceAndHowToGetTheData() throws IOException {
        DatasetSource source = new DatasetSource("toy", List.of("Toy/raw"), List.of(tmp.resolve("system/toy")),
                List.of("a.bin[.gz]", "b.bin"), new DatasetSource.Remote(base(), Map.of("b.bin", EMPTY_MD5)),
                "apt-get install toy-data");
        Files.createDirectories(tmp.resolve("cache/toy"));
        Files.write(tmp.resolve("cache/toy/b.bin"), new byte[0]);
        DataLocator offline = new DataLocator(null, tmp.resolve("work"), tmp.resolve("cache"), false, false);
        assertThatThrownBy(() -> offline.locate(source))
                .isInstanceOf(DatasetException.class)
                .hasMessage("toy not found. Looked in:\n"
                        + "  " + tmp.resolve("work/toy").toAbsolutePath() + " (no such folder)\n"
                        + "  " + tmp.resolve("work/Toy/raw").toAbsolutePath() + " (no such folder)\n"
                        + "  " + tmp.resolve("cache/toy").toAbsolutePath() + " (lacks a.bin[.gz])\n"
                        + "  " + tmp.resolve("cache/Toy/raw").toAbsolutePath() + " (no such folder)\n"
                        + "  " + tmp.resolve("system/toy").toAbsolutePath() + " (no such folder)\n"
                        + "Downloading is switched off.\n"
                        + "To get it: apt-get install toy-data\n"
                        + "  or download b.bin from " + base() + " into " + tmp.resolve("cache/toy").toAbsolutePath() + "\n"
                        + "  or point --data-dir at a folder holding a.bin[.gz], b.bin");
        // online, but the server lacks a file: the download error is part of the message
        DataLocator online = offline.withDownload(true);
        DatasetSource broken = source.withRemote(new DatasetSource.Remote(base(), Map.of("a.bin.gz", HELLO_MD5)));
        assertThatThrownBy(() -> online.locate(broken))
                .hasMessageContaining("Download failed: download " + base() + "a.bin.gz: HTTP 404")
                .hasMessageContaining("To get it: apt-get install toy-data");
    }

    @Test
    void unreachableServerIsADownloadFailureNotAHang() {
        server.stop(0);
        DatasetSource source = new DatasetSource("toy", List.of(), List.of(), List.of("b.bin"),
                new DatasetSource.Remote(base(), Map.of("b.bin", EMPTY_MD5)), "by hand");
        DataLocator locator = new DataLocator(null, tmp.resolve("work"), tmp.resolve("cache"), true, false);
        assertThatThrownBy(() -> locator.locate(source)).hasMessageContaining("Download failed: download " + base() + "b.bin");
    }
}
