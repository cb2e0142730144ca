package ai.finops.gateway.upstream;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;

/** Receives what one upstream connection delivers for the exchange currently using it. */
interface UpstreamListener {
    void onResponseHead(HttpResponse head);

    /** The listener owns {@code content} and must release it. */
    void onResponseContent(HttpContent content);

    void onUpstreamClosed();

    void onUpstreamError(Throwable cause);
}
