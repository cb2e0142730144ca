package ai.finops.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A folder updated the way kubelet updates a ConfigMap or Secret volume (its {@code AtomicWriter}):
 * each version is written into a fresh {@code ..<timestamp>} folder, a {@code ..data_tmp} symlink to
 * it is renamed over {@code ..data} in one atomic step, every user-visible name is a symlink
 * {@code name -> ..data/name}, and the previous version's folder is then removed. A reader never
 * sees a half-written version, and a watcher on the folder sees the swap.
 */
public final class KubeletVolume {
    private static final AtomicInteger VERSIONS = new AtomicInteger();
    private final Path dir;

    public KubeletVolume(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** Replaces the whole content with {@code files} (name to bytes). */
    public synchronized void write(Map<String, byte[]> files) {
        try {
            Files.createDirectories(dir);
            Path data = dir.resolve("..data");
            Path previous = Files.isSymbolicLink(data) ? dir.resolve(Files.readSymbolicLink(data)) : null;
            Path version = dir.resolve("..2026_" + System.nanoTime() + "." + VERSIONS.incrementAndGet());
            Files.createDirectory(version);
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                Files.write(version.resolve(file.getKey()), file.getValue());
            }
            Path tmp = dir.resolve("..data_tmp");
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, version.getFileName());
            Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Set<String> names = new HashSet<>(files.keySet());
            for (String name : names) {
                Path link = dir.resolve(name);
                if (!Files.isSymbolicLink(link)) {
                    Files.createSymbolicLink(link, Path.of("..data", name));
                }
            }
            try (Stream<Path> entries = Files.list(dir)) {
                for (Path entry : entries.toList()) {
                    String name = entry.getFileName().toString();
                    if (!name.startsWith("..") && !names.contains(name)) {
                        Files.delete(entry);
                    }
                }
            }
            if (previous != null && !previous.equals(version)) {
                try (Stream<Path> old = Files.list(previous)) {
                    for (Path f : old.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(previous);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
