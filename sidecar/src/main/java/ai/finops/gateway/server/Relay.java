package ai.finops.gateway.server;

import ai.finops.gateway.upstream.UpstreamEndpoint;

/**
 * Where a {@code via-gateway} sidecar sends every request: the shared gateway's base URL, from the
 * command line, and the pod's virtual key for requests that carry no credential of their own.
 *
 * @param key the pod's virtual key (from the environment, never a flag), or null
 */
public record Relay(UpstreamEndpoint endpoint, String key) {
    @Override
    public String toString() {
        return "Relay[" + endpoint + "]";    // never the key
    }
}
