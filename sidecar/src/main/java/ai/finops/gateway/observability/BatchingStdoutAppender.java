package ai.finops.gateway.observability;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.UnsynchronizedAppenderBase;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway's log lines to standard output, written by one thread in batches: a logging thread (an
 * event loop writing an access line) only queues the event, never waits (a full queue drops the line and
 * counts it; the next batch says how many); the writer takes everything queued, formats it with
 * {@link LogLineEncoder} into one buffer and writes it with one system call. Under load that is one write
 * for many lines instead of one a line; when idle a line goes out as soon as it is logged.
 *
 * <p>{@link #stop()} (the logger context's stop, at the end of shutdown) writes what is still queued.
 */
public final class BatchingStdoutAppender extends UnsynchronizedAppenderBase<ILoggingEvent> {
    private static final int MOST_A_BATCH = 1024;

    private LogLineEncoder encoder;
    private int queueSize = 8192;
    private OutputStream out = new FileOutputStream(FileDescriptor.out);
    private BlockingQueue<ILoggingEvent> queue;
    private final AtomicLong dropped = new AtomicLong();
    private Thread writer;

    public void setEncoder(LogLineEncoder encoder) {
        this.encoder = encoder;
    }

    public void setQueueSize(int queueSize) {
        this.queueSize = queueSize;
    }

    /** Where the lines go instead of standard output (for tests). */
    void setOutput(OutputStream out) {
        this.out = out;
    }

    @Override
    public void start() {
        if (encoder == null) {
            addError("no encoder for appender " + name);
            return;
        }
        queue = new ArrayBlockingQueue<>(Math.max(16, queueSize));
        writer = new Thread(this::writeLines, "log-writer");
        writer.setDaemon(true);
        writer.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        event.prepareForDeferredProcessing();   // message, thread name and MDC taken on the logging thread
        if (!queue.offer(event)) {
            dropped.incrementAndGet();
        }
    }

    @Override
    public void stop() {
        if (!isStarted()) {
            return;
        }
        super.stop();
        writer.interrupt();
        try {
            writer.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void writeLines() {
        List<ILoggingEvent> batch = new ArrayList<>(MOST_A_BATCH);
        StringBuilder lines = new StringBuilder(64 * 1024);
        boolean running = true;
        while (running) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                running = false;       // stopping: write what is queued, then end
            }
            queue.drainTo(batch, MOST_A_BATCH - batch.size());
            if (!running) {
                queue.drainTo(batch);
            }
            write(batch, lines);
        }
    }

    private void write(List<ILoggingEvent> batch, StringBuilder lines) {
        long lost = dropped.getAndSet(0);
        if (lost > 0) {
            encoder.appendLine(droppedLine(lost), lines);
        }
        for (ILoggingEvent event : batch) {
            encoder.appendLine(event, lines);
        }
        batch.clear();
        if (lines.length() == 0) {
            return;
        }
        try {
            out.write(lines.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            addError("cannot write log lines", e);
        }
        lines.setLength(0);
        if (lines.capacity() > 1 << 20) {
            lines.trimToSize();   // one burst of long lines does not hold its buffer for ever
        }
    }

    private ILoggingEvent droppedLine(long lost) {
        LoggerContext context = (LoggerContext) getContext();
        LoggingEvent e = new LoggingEvent(getClass().getName(), context.getLogger("ai.finops.gateway.log"), Level.WARN,
                "log lines dropped: the queue was full", null, null);
        e.addKeyValuePair(new org.slf4j.event.KeyValuePair("dropped", lost));
        return e;
    }
}
