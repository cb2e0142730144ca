package ai.finops.gateway.observability.tracing;

import ai.finops.gateway.observability.ExchangeListener;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import java.net.URI;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The gateway's OpenTelemetry SDK, set up from the standard {@code OTEL_*} variables by the SDK's own
 * autoconfiguration (exporter protocol, headers, sampler, resource, batch sizes), with two decisions of
 * the gateway's: tracing is on only when an OTLP endpoint is named ({@code OTEL_EXPORTER_OTLP_ENDPOINT}
 * or {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}), since the SDK's default of {@code localhost:4318}
 * would send spans nowhere on most machines; and only spans are exported (the gateway's metrics are
 * scraped from {@code /metrics}). Spans leave in batches from the SDK's own thread, never from an
 * event loop; a collector that is slow or away only drops spans once the batch queue is full.
 */
public final class Tracing implements AutoCloseable {
    /** No SDK, no listener: what a gateway without an endpoint runs with. */
    public static final Tracing OFF = new Tracing(null, null);

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Tracing.class);
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    private static final String INSTRUMENTATION = "ai.finops.gateway";
    private static final String PROTOCOL = "otel.exporter.otlp.protocol";
    private static final String DEFAULT_PROTOCOL = "http/protobuf";

    private final OpenTelemetrySdk sdk;
    private final RequestTracer tracer;

    private Tracing(OpenTelemetrySdk sdk, RequestTracer tracer) {
        this.sdk = sdk;
        this.tracer = tracer;
    }

    /**
     * Tracing as the variables in {@code env} say ({@link System#getenv()} in production), logged in one line;
     * {@code serviceName} unless {@code OTEL_SERVICE_NAME} or {@code OTEL_RESOURCE_ATTRIBUTES} names another.
     */
    public static Tracing fromEnvironment(Map<String, String> env, String serviceName) {
        OpenTelemetrySdk sdk = sdk(env, serviceName);
        return sdk == null ? OFF : new Tracing(sdk, new RequestTracer(sdk.getTracer(INSTRUMENTATION),
                sdk.getPropagators().getTextMapPropagator()));
    }

    /** The SDK the variables describe, or null (logged either way). */
    public static OpenTelemetrySdk sdk(Map<String, String> env, String serviceName) {
        if ("true".equalsIgnoreCase(value(env, "OTEL_SDK_DISABLED"))) {
            LOG.atInfo().log("tracing off: OTEL_SDK_DISABLED=true");
            return null;
        }
        if ("none".equalsIgnoreCase(value(env, "OTEL_TRACES_EXPORTER"))) {
            LOG.atInfo().log("tracing off: OTEL_TRACES_EXPORTER=none");
            return null;
        }
        String endpoint = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        if (endpoint == null) {
            endpoint = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
        }
        if (endpoint == null) {
            LOG.atInfo().log("tracing off: no OTLP endpoint (set OTEL_EXPORTER_OTLP_ENDPOINT to export spans)");
            return null;
        }
        AtomicReference<String> service = new AtomicReference<>();
        AtomicReference<String> sampler = new AtomicReference<>();
        OpenTelemetrySdk sdk = AutoConfiguredOpenTelemetrySdk.builder()
                .disableShutdownHook()         // the gateway flushes it on close, after the last request
                .addPropertiesSupplier(() -> properties(env))
                .addPropertiesCustomizer(config -> Map.of("otel.traces.exporter", "otlp", "otel.metrics.exporter", "none",
                        "otel.logs.exporter", "none"))
                .addResourceCustomizer((resource, config) -> {
                    Resource named = named(resource, serviceName);
                    service.set(named.getAttribute(SERVICE_NAME));
                    return named;
                })
                .addSamplerCustomizer((chosen, config) -> {
                    sampler.set(chosen.getDescription());
                    return chosen;
                })
                .build()
                .getOpenTelemetrySdk();
        String protocol = value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
        if (protocol == null) {
            protocol = value(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
        }
        LOG.atInfo().addKeyValue("endpoint", withoutSecrets(endpoint)).addKeyValue("protocol", protocol == null ? DEFAULT_PROTOCOL : protocol)
                .addKeyValue("sampler", sampler.get()).addKeyValue("service", service.get())
                .log("tracing on: spans exported over OTLP");
        return sdk;
    }

    /** The listener that records each proxied request as spans; null when tracing is off. */
    public ExchangeListener listener() {
        return tracer;
    }

    public boolean on() {
        return sdk != null;
    }

    /** Exports what is queued (a few seconds at most), then stops. */
    @Override
    public void close() {
        if (sdk != null) {
            sdk.shutdown().join(5, TimeUnit.SECONDS);
        }
    }

    /**
     * Every {@code OTEL_*} variable as the SDK's property ({@code OTEL_SERVICE_NAME} is {@code otel.service.name}), and
     * the specification's default protocol, {@code http/protobuf}, where the Java SDK's own would be {@code grpc}.
     */
    private static Map<String, String> properties(Map<String, String> env) {
        Map<String, String> properties = new HashMap<>();
        env.forEach((name, value) -> {
            if (name.startsWith("OTEL_") && value != null && !value.isBlank()) {
                properties.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value.trim());
            }
        });
        properties.putIfAbsent(PROTOCOL, DEFAULT_PROTOCOL);
        return properties;
    }

    private static Resource named(Resource resource, String serviceName) {
        String name = resource.getAttribute(SERVICE_NAME);
        return name == null || name.startsWith("unknown_service") ? resource.merge(Resource.builder().put(SERVICE_NAME, serviceName).build())
                : resource;
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** Where spans go, for the log: scheme, host, port and path, never user info or a query. */
    static String withoutSecrets(String endpoint) {
        try {
            URI uri = URI.create(endpoint);
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + (uri.getPath() == null ? "" : uri.getPath());
        } catch (IllegalArgumentException e) {
            return "(not a URL)";
        }
    }
}
