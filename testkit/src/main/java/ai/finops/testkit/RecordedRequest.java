package ai.finops.testkit;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * A request as the simulator received it.
 *
 * @param headers a copy; names are case-insensitive
 * @param body the bytes exactly as received
 */
public record RecordedRequest(String method, String uri, HttpHeaders headers, byte[] body) {}
