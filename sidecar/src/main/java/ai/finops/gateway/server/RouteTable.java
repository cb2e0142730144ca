package ai.finops.gateway.server;

import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Which {@link Endpoint} serves a method and path of the API port ({@link ApiHandler#ROUTES}), and
 * what a method and path no row has gets instead. A path is matched whole, as {@link ApiHandler#path}
 * gives it (no query, no trailing slash); each surface prefix ({@code /anthropic}, {@code /openai}) and
 * each bare {@code /v1/...} form is a row of its own. Immutable once built.
 */
final class RouteTable {

    /** The dialect a request speaks, and is answered in (errors included); its tag is the {@code api} metrics and rules see. */
    enum Surface {
        ANTHROPIC("the Anthropic API is served under /anthropic/v1/messages and /v1/messages"),
        OPENAI("the OpenAI API is served under /openai/v1/chat/completions and /openai/v1/models");

        private final String servedUnder;

        Surface(String servedUnder) {
            this.servedUnder = servedUnder;
        }

        /** {@code anthropic} or {@code openai}. */
        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Where this surface is served: what a 404 on it tells the client. */
        String servedUnder() {
            return servedUnder;
        }
    }

    /**
     * One row: {@code method path} is served by {@code endpoint}, in {@code surface}'s dialect. A route
     * needs the virtual key, and its path asked with a method no row takes is 405. A probe ({@code HEAD
     * /}) needs no key, and its path asked with another method is no endpoint at all: 404.
     */
    record Route(HttpMethod method, String path, Surface surface, Endpoint endpoint, boolean probe) {
        boolean needsKey() {
            return !probe;
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /** A row that needs the virtual key. */
    static Route route(HttpMethod method, String path, Surface surface, Endpoint endpoint) {
        return new Route(method, path, surface, endpoint, false);
    }

    /** A row anyone may ask, without a key, on the Anthropic surface (the default one). */
    static Route probe(HttpMethod method, String path, Endpoint endpoint) {
        return new Route(method, path, Surface.ANTHROPIC, endpoint, true);
    }

    static RouteTable of(Route... routes) {
        return new RouteTable(List.of(routes));
    }

    private final List<Route> routes;
    private final Map<String, List<Route>> byPath = new HashMap<>();

    private RouteTable(List<Route> routes) {
        this.routes = routes;
        for (Route r : routes) {
            List<Route> same = byPath.computeIfAbsent(r.path(), p -> new ArrayList<>(1));
            for (Route other : same) {
                if (other.method().equals(r.method())) {
                    throw new IllegalArgumentException("two rows for " + r);
                }
                if (other.surface() != r.surface() || other.probe() != r.probe()) {
                    throw new IllegalArgumentException(r + " and " + other + " share a path, so they must share its surface and kind");
                }
            }
            same.add(r);
        }
    }

    /** Every row, in the order the table lists them. */
    List<Route> routes() {
        return routes;
    }

    /** The row for {@code method} and {@code path}, or null. */
    Route find(HttpMethod method, String path) {
        List<Route> same = byPath.get(path);
        if (same != null) {
            for (Route r : same) {
                if (r.method().equals(method)) {
                    return r;
                }
            }
        }
        return null;
    }

    /**
     * The methods that routes (not probes) take on {@code path}, in table order: asked with any other,
     * the path is 405 and these go in {@code Allow}. Empty for a path that is no route's: any method on
     * it is 404.
     */
    List<HttpMethod> allowed(String path) {
        List<Route> same = byPath.get(path);
        return same == null || same.get(0).probe() ? List.of() : same.stream().map(Route::method).toList();
    }

    /** True for a path that only a request with a virtual key is served on: a route's path, whatever the method. */
    boolean needsKey(String path) {
        List<Route> same = byPath.get(path);
        return same != null && same.get(0).needsKey();
    }

    /** The surface of {@code path}: its rows', else {@code /openai/...} is OpenAI's and any other path Anthropic's. */
    Surface surface(String path) {
        List<Route> same = byPath.get(path);
        return same != null ? same.get(0).surface() : path.startsWith("/openai/") ? Surface.OPENAI : Surface.ANTHROPIC;
    }
}
