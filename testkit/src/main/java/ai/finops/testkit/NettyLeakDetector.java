package ai.finops.testkit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class whose code leaked a Netty buffer. Netty's detector (PARANOID: every buffer
 * tracked) reports a leak when a buffer that was never released is garbage-collected; this
 * extension listens to those reports and, after the class, collects garbage until they surface.
 * Works whichever class loaded Netty first, since it reads the reports rather than replacing the
 * detector.
 */
public final class NettyLeakDetector implements BeforeAllCallback, AfterAllCallback {
    private static final String LOGGER = ResourceLeakDetector.class.getName();
    private ListAppender<ILoggingEvent> appender;

    @Override
    public void beforeAll(ExtensionContext context) {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);
        if (logger.getLevel() == null || logger.getLevel().isGreaterOrEqual(Level.WARN)) {
            logger.setLevel(Level.ERROR);
        }
        appender = new ListAppender<>();
        appender.setName("netty-leaks-" + context.getDisplayName());
        appender.start();
        logger.addAppender(appender);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        Logger logger = (Logger) LoggerFactory.getLogger(LOGGER);
        try {
            for (int round = 0; round < 5 && leaks().isEmpty(); round++) {
                System.gc();
                Thread.sleep(50);
                // the detector reports while tracking new buffers: allocate some to let it look
                for (int i = 0; i < 64; i++) {
                    ByteBuf b = PooledByteBufAllocator.DEFAULT.buffer(16);
                    b.release();
                }
            }
            List<String> leaks = leaks();
            if (!leaks.isEmpty()) {
                throw new AssertionError(leaks.size() + " Netty buffer leak(s) in " + context.getDisplayName() + ":\n"
                        + String.join("\n----\n", leaks));
            }
        } finally {
            logger.detachAppender(appender);
            appender.stop();
        }
    }

    private List<String> leaks() {
        return appender.list.stream().map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("LEAK:")).toList();
    }
}
