package ai.finops.gateway.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/** The access lines the gateway writes while it is open, each as its key-value pairs; they are not printed. */
final class AccessLines implements AutoCloseable {
    private final Logger logger = (Logger) LoggerFactory.getLogger("ai.finops.gateway.access");
    private final Level level = logger.getLevel();
    private final boolean additive = logger.isAdditive();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

    AccessLines() {
        appender.start();
        logger.addAppender(appender);
        logger.setAdditive(false);
        logger.setLevel(Level.INFO);
    }

    List<Map<String, String>> lines() {
        List<ILoggingEvent> events;
        synchronized (appender) {    // AppenderBase appends under this lock
            events = List.copyOf(appender.list);
        }
        return events.stream().map(e -> {
            Map<String, String> kv = new LinkedHashMap<>();
            e.getKeyValuePairs().forEach(p -> kv.put(p.key, String.valueOf(p.value)));
            return kv;
        }).toList();
    }

    @Override
    public void close() {
        logger.detachAppender(appender);
        logger.setAdditive(additive);
        logger.setLevel(level);
    }
}
