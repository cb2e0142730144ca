package ai.finops.gateway.observability;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class BatchingStdoutAppenderTest {

    static BatchingStdoutAppender appender(LoggerContext context, OutputStream out, int queueSize) {
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        LogLineEncoder encoder = new LogLineEncoder();
        encoder.setContext(context);
        encoder.setFormat("json");
        encoder.start();
        BatchingStdoutAppender appender = new BatchingStdoutAppender();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setQueueSize(queueSize);
        appender.setOutput(out);
        appender.start();
        Logger logger = context.getLogger("ai.finops.test");
        logger.addAppender(appender);
        return appender;
    }

    @Test
    void everyLineOfSeveralThreadsIsWrittenWholeAndInEachThreadsOrderByTheTimeItStops() throws Exception {
        LoggerContext context = new LoggerContext();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BatchingStdoutAppender appender = appender(context, out, 100_000);
        Logger logger = context.getLogger("ai.finops.test");
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                for (int i = 0; i < 5_000; i++) {
                    logger.atInfo().addKeyValue("n", i).log("line of " + id);
                }
            }, "loop-" + t);
            thread.start();
            threads.add(thread);
        }
        for (Thread t : threads) {
            t.join();
        }
        appender.stop();   // writes what is still queued

        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(20_000);
        int[] next = new int[4];
        Pattern line = Pattern.compile("\\{\"time\":\"[^\"]+\",\"level\":\"INFO\",\"logger\":\"ai.finops.test\",\"thread\":\"loop-(\\d)\","
                + "\"message\":\"line of (\\d)\",\"n\":(\\d+)}");
        for (String l : lines) {
            Matcher m = line.matcher(l);
            assertThat(m.matches()).as(l).isTrue();
            int id = Integer.parseInt(m.group(1));
            assertThat(m.group(2)).as("the logging thread's name, not the writer's").isEqualTo(m.group(1));
            assertThat(Integer.parseInt(m.group(3))).isEqualTo(next[id]++);
        }
    }

    @Test
    void aFullQueueDropsLinesWithoutWaitingAndTheNextWriteSaysHowMany() throws Exception {
        LoggerContext context = new LoggerContext();
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream written = new ByteArrayOutputStream();
        OutputStream stalled = new OutputStream() {   // standard output that stops taking lines for a while
            @Override
            public void write(int b) {
                written.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                written.write(b, off, len);
            }
        };
        BatchingStdoutAppender appender = appender(context, stalled, 16);
        Logger logger = context.getLogger("ai.finops.test");
        logger.info("first");
        assertThat(writing.await(30, TimeUnit.SECONDS)).isTrue();   // the writer is stuck on the first line
        for (int i = 0; i < 100; i++) {
            logger.info("queued or dropped");   // never waits
        }
        release.countDown();
        appender.stop();

        String text = written.toString(StandardCharsets.UTF_8);
        long queued = text.lines().filter(l -> l.contains("queued or dropped")).count();
        Matcher dropped = Pattern.compile("\"message\":\"log lines dropped: the queue was full\",\"dropped\":(\\d+)").matcher(text);
        assertThat(dropped.find()).as(text).isTrue();
        assertThat(queued).isEqualTo(16);
        assertThat(queued + Long.parseLong(dropped.group(1))).isEqualTo(100);
    }
}
