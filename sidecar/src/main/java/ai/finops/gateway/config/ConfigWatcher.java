package ai.finops.gateway.config;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the config directories and calls the reload action after changes settle. Works for plain
 * folders edited in place and for kubelet's mounted volumes, which swap a {@code ..data} symlink
 * atomically (the directory itself is watched, never a file: never use {@code subPath}). A slow
 * poll backs the watch up, since some file systems deliver no events; the reload action skips
 * content it has already seen.
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);
    static final long SETTLE_MILLIS = 150;
    static final long POLL_MILLIS = 2_000;

    private final WatchService watch;
    private final Runnable reload;
    private final Thread thread;

    public ConfigWatcher(List<Path> dirs, Runnable reload) throws IOException {
        this.watch = FileSystems.getDefault().newWatchService();
        this.reload = reload;
        for (Path dir : dirs) {
            dir.register(watch, ENTRY_CREATE, ENTRY_MODIFY, ENTRY_DELETE);
        }
        this.thread = new Thread(this::run, "config-watcher");
        this.thread.setDaemon(true);
    }

    public ConfigWatcher start() {
        thread.start();
        return this;
    }

    private void run() {
        try {
            while (true) {
                WatchKey key = watch.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    drain(key);
                    // Let a burst of writes (an editor's save, kubelet's swap) settle into one reload.
                    WatchKey more;
                    while ((more = watch.poll(SETTLE_MILLIS, TimeUnit.MILLISECONDS)) != null) {
                        drain(more);
                    }
                }
                try {
                    reload.run();
                } catch (RuntimeException e) {
                    LOG.atError().setCause(e).log("config reload failed");
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    private static void drain(WatchKey key) {
        key.pollEvents();
        key.reset();
    }

    @Override
    public void close() throws IOException {
        thread.interrupt();
        watch.close();
    }
}
