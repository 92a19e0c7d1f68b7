package io.github.transformers4j.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLConnection;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Downloads one file safely: into a temporary file in the target's folder, checking its MD5, then moved into
 * place atomically. A failed or corrupt download leaves nothing behind, and readers never see a partial file.
 * Works for {@code http(s):} and {@code file:} URIs.
 */
public final class Downloader {
    private static final int CONNECT_TIMEOUT_MS = 15_000;
    private static final int READ_TIMEOUT_MS = 60_000;

    private Downloader() {}

    /**
     * Downloads {@code uri} to {@code target} unless it is already there with the right checksum.
     *
     * @param md5 expected lowercase hex MD5 of the file, or null to skip the check
     * @param progress show a progress bar on standard error
     */
    /** Deletes the given folders, innermost first, where they are empty (a failed download leaves none behind). */
    private static void removeEmpty(List<Path> created) {
        for (Path p : created) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                return; // not empty (or not ours to remove): keep it and its parents
            }
        }
    }

    public static Path download(URI uri, Path target, String md5, boolean progress) {
        Path dir = target.toAbsolutePath().getParent();
        List<Path> created = new ArrayList<>(); // folders this call makes: removed again if it fails
        try {
            if (md5 != null && Files.isRegularFile(target) && md5.equalsIgnoreCase(md5(target))) return target;
            for (Path p = dir; p != null && !Files.exists(p); p = p.getParent()) created.add(p);
            Files.createDirectories(dir);
        } catch (IOException e) {
            removeEmpty(created);
            throw new DatasetException("download " + uri + ": cannot prepare " + target + " (" + e + ")", e);
        }
        Path tmp = null;
        boolean done = false;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".part");
            URLConnection conn = uri.toURL().openConnection();
            conn.setConnectTimeout(CONNECT_TIMEOUT_MS);
            conn.setReadTimeout(READ_TIMEOUT_MS);
            if (conn instanceof HttpURLConnection http) {
                int status = http.getResponseCode();
                if (status != HttpURLConnection.HTTP_OK)
                    throw new DatasetException("download " + uri + ": HTTP " + status + " " + http.getResponseMessage());
            }
            long length = conn.getContentLengthLong();
            MessageDigest digest = newMd5();
            long total = 0;
            try (InputStream in = conn.getInputStream();
                 OutputStream out = Files.newOutputStream(tmp);
                 ProgressBar bar = progress ? bar(target.getFileName().toString(), length) : null) {
                byte[] buf = new byte[1 << 16];
                for (int r; (r = in.read(buf)) >= 0; ) {
                    out.write(buf, 0, r);
                    digest.update(buf, 0, r);
                    total += r;
                    if (bar != null) bar.stepBy(r);
                }
            }
            if (length >= 0 && total != length)
                throw new DatasetException("download " + uri + ": received " + total + " of " + length + " bytes");
            String got = HexFormat.of().formatHex(digest.digest());
            if (md5 != null && !md5.equalsIgnoreCase(got))
                throw new DatasetException("download " + uri + ": MD5 mismatch, expected " + md5.toLowerCase()
                        + ", got " + got + " (" + total + " bytes); the file is corrupt or has changed on the server");
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
            done = true;
            return target;
        } catch (IOException e) {
            throw new DatasetException("download " + uri + ": " + e, e);
        } finally {
            if (!done) {
                try {
                    if (tmp != null) Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort, as below
                }
                removeEmpty(created);
            }
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stale .part file is harmless
                }
            }
        }
    }

    /** Lowercase hex MD5 of a file. */
    public static String md5(Path file) throws IOException {
        MessageDigest digest = newMd5();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) >= 0; ) digest.update(buf, 0, r);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newMd5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 not available", e);
        }
    }

    private static ProgressBar bar(String name, long length) {
        return new ProgressBarBuilder().setTaskName(name).setInitialMax(length).setUnit("MiB", 1 << 20)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setUpdateIntervalMillis(250).build();
    }
}
