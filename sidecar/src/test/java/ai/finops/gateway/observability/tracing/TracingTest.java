package ai.finops.gateway.observability.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** When the gateway traces, from the standard variables alone. */
class TracingTest {

    @Test
    void withoutAnEndpointThereIsNoSdkAndNoListener() {
        try (Tracing tracing = Tracing.fromEnvironment(Map.of("OTEL_SERVICE_NAME", "gw", "OTEL_TRACES_SAMPLER", "always_on"), "finops-gateway")) {
            assertThat(tracing.on()).isFalse();
            assertThat(tracing.listener()).isNull();
        }
    }

    @Test
    void disabledOrExporterNoneWinsOverAnEndpoint() {
        assertThat(Tracing.sdk(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SDK_DISABLED", "true"), "x")).isNull();
        assertThat(Tracing.sdk(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces", "OTEL_TRACES_EXPORTER", "none"),
                "x")).isNull();
    }

    @Test
    void eitherEndpointVariableTurnsItOn() {
        for (String variable : new String[] {"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"}) {
            try (Tracing tracing = Tracing.fromEnvironment(Map.of(variable, "http://127.0.0.1:1"), "finops-gateway")) {
                assertThat(tracing.on()).as(variable).isTrue();
                assertThat(tracing.listener()).isNotNull();
            }
        }
    }

    @Test
    void theLoggedEndpointKeepsNoUserInfoOrQuery() {
        assertThat(Tracing.withoutSecrets("https://user:secret@collector.example:4318/otlp?token=abc")).isEqualTo("https://collector.example:4318/otlp");
    }
}
