package ai.finops.gateway.mcp;

import ai.finops.gateway.auth.KeyEntry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server-to-client streams ({@code GET /mcp}) open on this gateway, each with the key it was opened
 * with: an upstream's {@code notifications/tools/list_changed} reaches every stream whose key may use
 * that server (its tools are in that key's list), and no other.
 */
final class ClientStreams {
    /** One open stream. */
    record Stream(KeyEntry key, Answers answers) {}

    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();

    void add(Stream stream) {
        streams.add(stream);
    }

    void remove(Stream stream) {
        streams.remove(stream);
    }

    int size() {
        return streams.size();
    }

    /** The tools of McpServer {@code server} changed: every stream that lists them hears of it. */
    void toolsChanged(String server) {
        for (Stream stream : streams) {
            if (stream.key().allowsMcpServer(server)) {
                stream.answers().event(JsonRpc.notification("notifications/tools/list_changed"));
            }
        }
    }

    /** Ends every stream (the gateway stops). */
    void endAll() {
        for (Stream stream : streams) {
            streams.remove(stream);
            stream.answers().end();
        }
    }
}
