package ai.finops.gateway.mcp;

import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * The SDK's client transport, telling whoever sent a request the JSON-RPC id it goes upstream under: the SDK's
 * session draws that id itself and never shows it, and a cancellation must name it. The sender puts a
 * {@code Consumer<Object>} under {@link #SENT} in the request's Reactor context (which the session hands on to the
 * transport); everything else passes through unchanged.
 */
final class RequestIdTransport implements McpClientTransport {
    /** The context key of the {@code Consumer<Object>} told a request's upstream id as it is sent. */
    static final Object SENT = RequestIdTransport.class;

    private final McpClientTransport delegate;

    RequestIdTransport(McpClientTransport delegate) {
        this.delegate = delegate;
    }

    @Override
    @SuppressWarnings("unchecked")
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
        if (!(message instanceof McpSchema.JSONRPCRequest request)) {
            return delegate.sendMessage(message);
        }
        return Mono.deferContextual(context -> {
            context.<Consumer<Object>>getOrEmpty(SENT).ifPresent(sent -> sent.accept(request.id()));
            return delegate.sendMessage(message);
        });
    }

    @Override
    public Mono<Void> connect(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        return delegate.connect(handler);
    }

    @Override
    public void setExceptionHandler(Consumer<Throwable> handler) {
        delegate.setExceptionHandler(handler);
    }

    @Override
    public Mono<Void> closeGracefully() {
        return delegate.closeGracefully();
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> type) {
        return delegate.unmarshalFrom(data, type);
    }

    @Override
    public List<String> protocolVersions() {
        return delegate.protocolVersions();
    }
}
