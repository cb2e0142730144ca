package ai.finops.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Helm chart through an embedded helm (helm-java): lint, render, and what the rendered objects must hold. */
class ChartTest {
    static final Path CHART = Path.of("../charts/finops");

    /** The chart rendered with {@code values}, as helm template prints it. */
    static String template(UnaryOperator<TemplateCommand> values) {
        return values.apply(new Helm(CHART).template().withName("finops").withNamespace("finops-system").withKubeVersion("1.31.0")).call();
    }

    static List<HasMetadata> render(UnaryOperator<TemplateCommand> values) {
        String yaml = template(values);
        List<HasMetadata> objects = new ArrayList<>();
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
                objects.add(Serialization.unmarshal(doc));
            }
        }
        return objects;
    }

    static <T> List<T> of(List<HasMetadata> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static void restricted(PodSpec spec) {
        List<Container> containers = new ArrayList<>(spec.getContainers());
        if (spec.getInitContainers() != null) {
            containers.addAll(spec.getInitContainers());
        }
        for (Container c : containers) {
            SecurityContext sc = c.getSecurityContext();
            assertThat(sc).as(c.getName()).isNotNull();
            assertThat(sc.getRunAsNonRoot()).as(c.getName()).isTrue();
            assertThat(sc.getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
            assertThat(sc.getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
            assertThat(sc.getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
            assertThat(sc.getSeccompProfile().getType()).as(c.getName()).isEqualTo("RuntimeDefault");
            assertThat(c.getImage()).as(c.getName()).contains(":").doesNotEndWith(":latest");
            assertThat(c.getVolumeMounts()).as(c.getName()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
            assertThat(c.getVolumeMounts()).allSatisfy(m -> assertThat(m.getSubPath()).isNull());
        }
    }

    @Test
    void dashboardsAndAlertsFollowTheirValuesAndAreOffByDefault() {
        assertThat(render(t -> t)).noneMatch(o -> o.getKind().equals("PrometheusRule"))
                .noneMatch(o -> o.getMetadata().getLabels() != null && o.getMetadata().getLabels().containsKey("grafana_dashboard"));
        List<HasMetadata> objects = render(t -> t.set("grafana.dashboards.enabled", true).set("grafana.dashboards.namespace", "monitoring")
                .set("grafana.dashboards.folder", "FinOps").set("prometheusRule.enabled", true)
                .set("prometheusRule.labels.release", "kube-prometheus-stack"));
        List<ConfigMap> dashboards = of(objects, ConfigMap.class).stream()
                .filter(c -> "1".equals(c.getMetadata().getLabels().get("grafana_dashboard"))).toList();
        assertThat(dashboards).extracting(c -> c.getMetadata().getName())
                .containsExactlyInAnyOrder("finops-dashboard-finops-operations", "finops-dashboard-finops-spend");
        assertThat(dashboards).allSatisfy(c -> {
            assertThat(c.getMetadata().getNamespace()).isEqualTo("monitoring");
            assertThat(c.getMetadata().getAnnotations()).containsEntry("grafana_folder", "FinOps");
        });
        assertThat(objects).filteredOn(o -> o.getKind().equals("PrometheusRule")).singleElement()
                .satisfies(r -> assertThat(r.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack"));
        assertThatThrownBy(() -> render(t -> t.set("prometheusRule.errorRatio", 2))).hasMessageContaining("errorRatio");
    }

    @Test
    void lintsStrictly() {
        LintResult result = new Helm(CHART).lint().strict().call();
        assertThat(result.isFailed()).as(String.join("\n", result.getMessages())).isFalse();
    }

    @Test
    void defaultsRenderARestrictedOperatorLeastPrivilegeRbacAndASafeWebhook() throws Exception {
        List<HasMetadata> objects = render(t -> t);
        List<Deployment> deployments = of(objects, Deployment.class);
        assertThat(deployments).extracting(d -> d.getMetadata().getName()).containsExactly("finops-operator");
        deployments.forEach(d -> restricted(d.getSpec().getTemplate().getSpec()));
        assertThat(deployments.get(0).getSpec().getReplicas()).isEqualTo(2);

        ClusterRole role = of(objects, ClusterRole.class).get(0);
        ClusterRole documented = java.util.Arrays.stream(Files.readString(Path.of("rbac/rbac.yaml")).split("(?m)^---\\s*$"))
                .filter(doc -> doc.contains("kind: ClusterRole\n")).map(doc -> Serialization.unmarshal(doc, ClusterRole.class)).findFirst().orElseThrow();
        assertThat(role.getRules()).usingRecursiveFieldByFieldElementComparator().isEqualTo(documented.getRules());
        for (PolicyRule rule : role.getRules()) {
            assertThat(rule.getVerbs()).doesNotContain("*");
            assertThat(rule.getResources()).doesNotContain("*");
        }

        MutatingWebhookConfiguration webhooks = of(objects, MutatingWebhookConfiguration.class).get(0);
        assertThat(webhooks.getWebhooks()).hasSize(2);
        for (MutatingWebhook w : webhooks.getWebhooks()) {
            assertThat(w.getAdmissionReviewVersions()).containsExactly("v1");
            assertThat(w.getSideEffects()).isEqualTo("None");
            assertThat(w.getTimeoutSeconds()).isLessThanOrEqualTo(10);
            assertThat(w.getFailurePolicy()).isEqualTo("Ignore");
            assertThat(w.getReinvocationPolicy()).isEqualTo("IfNeeded");
            assertThat(w.getNamespaceSelector().getMatchExpressions()).anySatisfy(e -> {
                assertThat(e.getKey()).isEqualTo("kubernetes.io/metadata.name");
                assertThat(e.getOperator()).isEqualTo("NotIn");
                assertThat(e.getValues()).containsExactlyInAnyOrder("kube-system", "finops-system");
            });
        }
        assertThat(webhooks.getMetadata().getAnnotations()).containsKey("cert-manager.io/inject-ca-from");
    }

    @Test
    void nonDefaultValuesAddTheSharedGatewayAndMonitoring(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path values = Files.writeString(tmp.resolve("values.yaml"), """
                operator: {replicas: 1, watchNamespaces: [team-a, team-b, finops-system]}
                webhook: {failurePolicy: Fail}
                gateway: {enabled: true}
                serviceMonitor: {enabled: true}
                """);
        List<HasMetadata> objects = render(t -> t.withValuesFile(values));
        List<Deployment> deployments = of(objects, Deployment.class);
        assertThat(deployments).extracting(d -> d.getMetadata().getName()).containsExactlyInAnyOrder("finops-operator", "finops-gateway");
        deployments.forEach(d -> restricted(d.getSpec().getTemplate().getSpec()));
        Deployment operator = deployments.stream().filter(d -> d.getMetadata().getName().equals("finops-operator")).findFirst().get();
        assertThat(operator.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()).contains("--namespaces=team-a,team-b,finops-system");
        assertThat(objects).extracting(HasMetadata::getKind).contains("PodDisruptionBudget", "ServiceMonitor", "PodMonitor", "Service");
        assertThat(of(objects, MutatingWebhookConfiguration.class).get(0).getWebhooks()).allSatisfy(w -> assertThat(w.getFailurePolicy()).isEqualTo("Fail"));
    }

    @Test
    void withoutCertManagerTheOperatorManagesTheWebhookCertificate() {
        List<HasMetadata> objects = render(t -> t.set("webhook.certManager.enabled", false));
        assertThat(objects).extracting(HasMetadata::getKind).doesNotContain("Certificate", "Issuer");
        Deployment operator = of(objects, Deployment.class).get(0);
        assertThat(operator.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .contains("--webhook-manage-certificate", "--webhook-configuration=finops-webhook");
        assertThat(of(objects, MutatingWebhookConfiguration.class).get(0).getMetadata().getAnnotations()).isNullOrEmpty();
    }

    /** The operator's command line as the chart renders it, parsed by the operator itself. */
    static Main operatorCommandLine(List<HasMetadata> objects) {
        Deployment operator = of(objects, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-operator"))
                .findFirst().orElseThrow();
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(operator.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs().toArray(String[]::new));
        return main;
    }

    @Test
    void theSidecarValuesReachTheInjector() {
        ai.finops.operator.inject.SidecarSettings defaults = operatorCommandLine(render(t -> t)).sidecar.settings();
        assertThat(defaults.mode()).isEqualTo(ai.finops.operator.inject.SidecarSettings.Mode.DIRECT);
        assertThat(defaults.port()).isEqualTo(4000);
        assertThat(defaults.resources()).isEqualTo(new ai.finops.operator.inject.SidecarSettings.Resources("50m", "160Mi", null, "512Mi"));

        Main viaGateway = operatorCommandLine(render(t -> t.set("gateway.enabled", true).set("sidecar.mode", "via-gateway")
                .set("sidecar.port", 4100).set("sidecar.logLevel", "DEBUG").set("sidecar.resources.limits.cpu", "1")));
        ai.finops.operator.inject.SidecarSettings settings = viaGateway.sidecar.settings();
        assertThat(settings.mode()).isEqualTo(ai.finops.operator.inject.SidecarSettings.Mode.VIA_GATEWAY);
        assertThat(settings.gatewayUrl()).isEqualTo("http://finops-gateway.finops-system.svc:8080");
        assertThat(settings.port()).isEqualTo(4100);
        assertThat(settings.logLevel()).isEqualTo("DEBUG");
        assertThat(settings.resources().cpuLimit()).isEqualTo("1");
        assertThat(viaGateway.sharedGatewayNamespace).isEqualTo("finops-system");

        Main elsewhere = operatorCommandLine(render(t -> t.set("sidecar.mode", "via-gateway")
                .set("sidecar.gatewayUrl", "https://ai-gateway.platform.example.com")));
        assertThat(elsewhere.sidecar.settings().gatewayUrl()).isEqualTo("https://ai-gateway.platform.example.com");
        assertThat(elsewhere.sharedGatewayNamespace).isNull();
    }

    static Container container(List<HasMetadata> objects, String deployment) {
        return of(objects, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals(deployment)).findFirst().orElseThrow()
                .getSpec().getTemplate().getSpec().getContainers().get(0);
    }

    static io.fabric8.kubernetes.api.model.EnvVar env(Container container, String name) {
        return container.getEnv() == null ? null : container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElse(null);
    }

    @Test
    void withoutRedisNothingPointsAtOne() {
        List<HasMetadata> objects = render(t -> t.set("gateway.enabled", true));
        assertThat(env(container(objects, "finops-operator"), "FINOPS_REDIS_URL")).isNull();
        assertThat(env(container(objects, "finops-gateway"), "FINOPS_REDIS_URL")).isNull();
        assertThat(env(container(objects, "finops-gateway"), "FINOPS_NAMESPACE").getValueFrom().getFieldRef().getFieldPath())
                .isEqualTo("metadata.namespace");
        Main main = operatorCommandLine(objects);
        assertThat(main.sidecar.settings().redis()).isEqualTo(ai.finops.operator.inject.SidecarSettings.Redis.NONE);
        assertThat(main.spendInterval()).isEqualTo(java.time.Duration.ofSeconds(30));
        assertThat(objects).extracting(o -> o.getMetadata().getName()).doesNotContain("finops-redis");
    }

    @Test
    void gatewayTlsIssuesACertificateForTheServiceMountsItAndTheSidecarsRelayOverHttps() {
        List<HasMetadata> issued = render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)
                .set("gateway.tls.certManager.issuerRef.name", "platform-ca").set("gateway.tls.certManager.issuerRef.kind", "ClusterIssuer"));
        HasMetadata certificate = issued.stream().filter(o -> o.getKind().equals("Certificate") && o.getMetadata().getName().equals("finops-gateway"))
                .findFirst().orElseThrow();
        String spec = Serialization.asYaml(certificate).replace("\"", "");
        assertThat(spec).contains("secretName: finops-gateway-tls").contains("- finops-gateway.finops-system.svc\n")
                .contains("encoding: PKCS8").contains("name: platform-ca").contains("kind: ClusterIssuer");
        Container gateway = container(issued, "finops-gateway");
        assertThat(env(gateway, "FINOPS_TLS_CERT_FILE").getValue()).isEqualTo("/etc/finops/tls/tls.crt");
        assertThat(env(gateway, "FINOPS_TLS_KEY_FILE").getValue()).isEqualTo("/etc/finops/tls/tls.key");
        assertThat(gateway.getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/etc/finops/tls"));
        assertThat(gateway.getReadinessProbe().getHttpGet().getScheme()).as("probes stay plain HTTP on the operations port").isNull();
        Deployment deployment = of(issued, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-gateway")).findFirst().get();
        assertThat(deployment.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> assertThat(v.getSecret()).extracting(s -> s.getSecretName())
                .isEqualTo("finops-gateway-tls"));
        Deployment operator = of(issued, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-operator")).findFirst().get();
        assertThat(operator.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs())
                .contains("--sidecar-gateway-url=https://finops-gateway.finops-system.svc:8080");

        List<HasMetadata> existing = render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)
                .set("gateway.tls.secretName", "gateway-cert"));
        assertThat(existing).noneMatch(o -> o.getKind().equals("Certificate") && o.getMetadata().getName().equals("finops-gateway"));
        assertThat(of(existing, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-gateway")).findFirst().get()
                .getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> assertThat(v.getSecret()).extracting(s -> s.getSecretName()).isEqualTo("gateway-cert"));

        assertThat(env(container(render(t -> t.set("gateway.enabled", true)), "finops-gateway"), "FINOPS_TLS_CERT_FILE")).isNull();
        assertThatThrownBy(() -> render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)))
                .hasMessageContaining("gateway.tls.enabled needs gateway.tls.certManager.issuerRef.name");
    }

    static io.fabric8.kubernetes.api.model.Volume operatorVolume(List<HasMetadata> objects, String name) {
        return of(objects, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-operator")).findFirst().orElseThrow()
                .getSpec().getTemplate().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst().orElse(null);
    }

    @Test
    void viaGatewaySidecarsVerifyTheTlsGatewayWithTheCaMountedIntoTheOperator() {
        List<HasMetadata> issued = render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)
                .set("gateway.tls.certManager.issuerRef.name", "platform-ca").set("sidecar.mode", "via-gateway"));
        ai.finops.operator.inject.SidecarSettings settings = operatorCommandLine(issued).sidecar.settings();
        assertThat(settings.gatewayUrl()).isEqualTo("https://finops-gateway.finops-system.svc:8080");
        assertThat(settings.gatewayCaFile()).isEqualTo(Path.of("/etc/finops/gateway-ca/ca.crt"));
        io.fabric8.kubernetes.api.model.Volume ca = operatorVolume(issued, "gateway-ca");
        assertThat(ca.getSecret().getSecretName()).isEqualTo("finops-gateway-tls");
        assertThat(ca.getSecret().getOptional()).as("the operator starts before cert-manager writes the Secret").isTrue();
        assertThat(ca.getSecret().getItems()).as("only the CA, never the gateway's tls.key")
                .singleElement().satisfies(i -> assertThat(i.getKey() + ">" + i.getPath()).isEqualTo("ca.crt>ca.crt"));
        assertThat(container(issued, "finops-operator").getVolumeMounts())
                .anySatisfy(m -> assertThat(m.getName() + "@" + m.getMountPath()).isEqualTo("gateway-ca@/etc/finops/gateway-ca"));

        // an existing Secret of the gateway: its ca.crt; or the CA in a ConfigMap of the user's
        assertThat(operatorVolume(render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)
                .set("gateway.tls.secretName", "gateway-cert").set("sidecar.mode", "via-gateway")), "gateway-ca").getSecret().getSecretName())
                .isEqualTo("gateway-cert");
        List<HasMetadata> bundle = render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true)
                .set("gateway.tls.secretName", "gateway-cert").set("sidecar.gatewayCa.configMapName", "platform-ca-bundle")
                .set("sidecar.gatewayCa.key", "bundle.pem"));
        assertThat(operatorVolume(bundle, "gateway-ca").getConfigMap().getName()).isEqualTo("platform-ca-bundle");
        assertThat(operatorVolume(bundle, "gateway-ca").getConfigMap().getItems()).singleElement()
                .satisfies(i -> assertThat(i.getKey() + ">" + i.getPath()).isEqualTo("bundle.pem>ca.crt"));
        assertThat(operatorCommandLine(bundle).sidecar.settings().gatewayCaFile()).isEqualTo(Path.of("/etc/finops/gateway-ca/ca.crt"));

        // a gateway elsewhere over https: the JVM's trust store unless a CA is given
        List<HasMetadata> elsewhere = render(t -> t.set("sidecar.mode", "via-gateway").set("sidecar.gatewayUrl", "https://ai-gateway.example.com"));
        assertThat(operatorVolume(elsewhere, "gateway-ca")).isNull();
        assertThat(operatorCommandLine(elsewhere).sidecar.settings().gatewayCaFile()).isNull();
        assertThat(operatorVolume(render(t -> t.set("sidecar.mode", "via-gateway").set("sidecar.gatewayUrl", "https://ai-gateway.example.com")
                .set("sidecar.gatewayCa.secretName", "ai-gateway-ca")), "gateway-ca").getSecret().getSecretName()).isEqualTo("ai-gateway-ca");

        // plain HTTP: no CA
        List<HasMetadata> plain = render(t -> t.set("gateway.enabled", true).set("sidecar.mode", "via-gateway"));
        assertThat(operatorVolume(plain, "gateway-ca")).isNull();
        assertThat(operatorCommandLine(plain).sidecar.settings().gatewayCaFile()).isNull();
        assertThatThrownBy(() -> render(t -> t.set("gateway.enabled", true).set("sidecar.gatewayCa.secretName", "ca")))
                .hasMessageContaining("sidecar.gatewayCa is the CA of an https gateway");
        assertThatThrownBy(() -> render(t -> t.set("gateway.enabled", true).set("gateway.tls.enabled", true).set("gateway.tls.secretName", "c")
                .set("sidecar.gatewayCa.secretName", "ca").set("sidecar.gatewayCa.configMapName", "ca")))
                .hasMessageContaining("set secretName or configMapName, not both");
    }

    @Test
    void theTracingValuesBecomeTheGatewaysOtelVariablesAndNoneWithoutAnEndpoint() {
        Container untraced = container(render(t -> t.set("gateway.enabled", true)), "finops-gateway");
        assertThat(untraced.getEnv()).noneMatch(e -> e.getName().startsWith("OTEL_"));

        Container traced = container(render(t -> t.set("gateway.enabled", true).set("tracing.otlpEndpoint", "http://collector.obs:4317")
                .set("tracing.protocol", "grpc").set("tracing.samplerArg", "0.25").set("tracing.extraEnv[0].name", "OTEL_RESOURCE_ATTRIBUTES")
                .set("tracing.extraEnv[0].value", "deployment.environment.name=prod")), "finops-gateway");
        assertThat(env(traced, "OTEL_EXPORTER_OTLP_ENDPOINT").getValue()).isEqualTo("http://collector.obs:4317");
        assertThat(env(traced, "OTEL_EXPORTER_OTLP_PROTOCOL").getValue()).isEqualTo("grpc");
        assertThat(env(traced, "OTEL_TRACES_SAMPLER").getValue()).isEqualTo("parentbased_traceidratio");
        assertThat(env(traced, "OTEL_TRACES_SAMPLER_ARG").getValue()).isEqualTo("0.25");
        assertThat(env(traced, "OTEL_RESOURCE_ATTRIBUTES").getValue()).isEqualTo("deployment.environment.name=prod");
    }

    @Test
    void theTracingValuesReachTheInjectedSidecarsAndNoneWithoutAnEndpoint() {
        assertThat(operatorCommandLine(render(t -> t)).sidecar.settings().tracing()).isEqualTo(ai.finops.operator.inject.SidecarSettings.Tracing.OFF);
        assertThat(operatorCommandLine(render(t -> t.set("tracing.samplerArg", "0.5"))).sidecar.settings().tracing().on()).isFalse();

        ai.finops.operator.inject.SidecarSettings.Tracing tracing = operatorCommandLine(render(t -> t
                .set("tracing.otlpEndpoint", "http://collector.obs:4317").set("tracing.protocol", "grpc").set("tracing.samplerArg", "0.25")))
                .sidecar.settings().tracing();
        assertThat(tracing).isEqualTo(new ai.finops.operator.inject.SidecarSettings.Tracing("http://collector.obs:4317", "grpc",
                "parentbased_traceidratio", "0.25"));
    }

    @Test
    void theMcpSessionKeyComesFromItsSecretAndIsAbsentWithoutOne() {
        assertThat(env(container(render(t -> t.set("gateway.enabled", true)), "finops-gateway"), "FINOPS_MCP_SESSION_KEY")).isNull();
        var named = env(container(render(t -> t.set("gateway.enabled", true).set("gateway.mcpSessionKeySecret.name", "finops-mcp-session")),
                "finops-gateway"), "FINOPS_MCP_SESSION_KEY").getValueFrom().getSecretKeyRef();
        assertThat(named.getName()).isEqualTo("finops-mcp-session");
        assertThat(named.getKey()).isEqualTo("sessionKey");
        var keyed = env(container(render(t -> t.set("gateway.enabled", true).set("gateway.mcpSessionKeySecret.name", "mcp")
                .set("gateway.mcpSessionKeySecret.key", "k")), "finops-gateway"), "FINOPS_MCP_SESSION_KEY").getValueFrom().getSecretKeyRef();
        assertThat(keyed.getName() + "/" + keyed.getKey()).isEqualTo("mcp/k");
        assertThat(env(container(render(t -> t.set("gateway.enabled", true).set("gateway.mcpSessionKeySecret.name", "mcp")), "finops-operator"),
                "FINOPS_MCP_SESSION_KEY")).as("the operator seals nothing").isNull();
        assertThatThrownBy(() -> render(t -> t.set("gateway.mcpSessionKeySecret.key", "k"))).as("a key without a Secret name")
                .hasMessageContaining("mcpSessionKeySecret");
    }

    @Test
    void anExistingRedisReachesTheOperatorTheSharedGatewayAndTheSidecars() {
        List<HasMetadata> objects = render(t -> t.set("gateway.enabled", true).set("redis.url", "rediss://redis.data.svc:6380")
                .set("redis.passwordSecret.name", "redis-auth").set("redis.passwordSecret.key", "pw").set("operator.spendInterval", "1m"));
        for (String deployment : List.of("finops-operator", "finops-gateway")) {
            Container c = container(objects, deployment);
            assertThat(env(c, "FINOPS_REDIS_URL").getValue()).as(deployment).isEqualTo("rediss://redis.data.svc:6380");
            var password = env(c, "FINOPS_REDIS_PASSWORD").getValueFrom().getSecretKeyRef();
            assertThat(password.getName()).as(deployment).isEqualTo("redis-auth");
            assertThat(password.getKey()).as(deployment).isEqualTo("pw");
        }
        Main main = operatorCommandLine(objects);
        assertThat(main.sidecar.settings().redis())
                .isEqualTo(new ai.finops.operator.inject.SidecarSettings.Redis("rediss://redis.data.svc:6380", "redis-auth", "pw"));
        assertThat(main.spendInterval()).isEqualTo(java.time.Duration.ofMinutes(1));
        assertThat(objects).extracting(o -> o.getMetadata().getName()).doesNotContain("finops-redis");
    }

    @Test
    void redisEnabledRunsOneRedisThatEveryoneUses() {
        List<HasMetadata> objects = render(t -> t.set("redis.enabled", true).set("redis.passwordSecret.name", "redis-auth"));
        Deployment redis = of(objects, Deployment.class).stream().filter(d -> d.getMetadata().getName().equals("finops-redis")).findFirst().orElseThrow();
        restricted(redis.getSpec().getTemplate().getSpec());
        assertThat(redis.getSpec().getReplicas()).isEqualTo(1);
        Container server = redis.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(server.getImage()).isEqualTo("redis:7-alpine");
        assertThat(server.getArgs()).containsSequence("--appendonly", "yes").containsSequence("--requirepass", "$(REDIS_PASSWORD)");
        assertThat(env(server, "REDIS_PASSWORD").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("password");
        assertThat(redis.getSpec().getTemplate().getSpec().getVolumes()).anySatisfy(v -> {
            assertThat(v.getName()).isEqualTo("data");
            assertThat(v.getEmptyDir()).isNotNull();
        });
        assertThat(of(objects, io.fabric8.kubernetes.api.model.Service.class)).extracting(o -> o.getMetadata().getName()).contains("finops-redis");
        assertThat(env(container(objects, "finops-operator"), "FINOPS_REDIS_URL").getValue()).isEqualTo("redis://finops-redis.finops-system.svc:6379");
        assertThat(operatorCommandLine(objects).sidecar.settings().redis())
                .isEqualTo(new ai.finops.operator.inject.SidecarSettings.Redis("redis://finops-redis.finops-system.svc:6379", "redis-auth", "password"));
        assertThat(of(objects, io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class)).isEmpty();

        List<HasMetadata> persistent = render(t -> t.set("redis.enabled", true).set("redis.persistence.enabled", true)
                .set("redis.persistence.size", "5Gi"));
        assertThat(of(persistent, io.fabric8.kubernetes.api.model.PersistentVolumeClaim.class)).singleElement()
                .satisfies(pvc -> assertThat(pvc.getSpec().getResources().getRequests().get("storage").toString()).isEqualTo("5Gi"));
        Container unprotected = container(persistent, "finops-redis");
        assertThat(unprotected.getArgs()).doesNotContain("--requirepass");
        assertThat(env(container(persistent, "finops-operator"), "FINOPS_REDIS_PASSWORD")).isNull();
    }

    @Test
    void aRedisUrlWithItsPasswordOrBesideTheChartsOwnRedisFailsTheInstall() {
        assertThatThrownBy(() -> render(t -> t.set("redis.url", "redis://:secret@redis:6379"))).hasMessageContaining("url");
        assertThatThrownBy(() -> render(t -> t.set("redis.url", "http://redis:6379"))).hasMessageContaining("url");
        assertThatThrownBy(() -> render(t -> t.set("redis.enabled", true).set("redis.url", "redis://elsewhere:6379")))
                .hasMessageContaining("redis.enabled runs the chart's own Redis");
        assertThatThrownBy(() -> render(t -> t.set("operator.spendInterval", "30"))).hasMessageContaining("spendInterval");
    }

    @Test
    void viaGatewayWithoutASharedGatewayFailsTheInstall() {
        assertThatThrownBy(() -> render(t -> t.set("sidecar.mode", "via-gateway")))
                .hasMessageContaining("sidecar.mode via-gateway relays to the shared gateway: set gateway.enabled=true or sidecar.gatewayUrl");
        assertThatThrownBy(() -> render(t -> t.set("sidecar.mode", "via_gateway"))).hasMessageContaining("mode");
        assertThatThrownBy(() -> render(t -> t.set("sidecar.resources.limits.memory", "lots"))).hasMessageContaining("memory");
        assertThatThrownBy(() -> render(t -> t.set("gateway.enabled", true).set("operator.watchNamespaces[0]", "team-a")))
                .hasMessageContaining("operator.watchNamespaces must include it");
    }

    @Test
    void aMisspelledValueOrALatestTagFailsTheInstall() {
        assertThatThrownBy(() -> render(t -> t.set("operator.replica", 3))).hasMessageContaining("replica");
        assertThatThrownBy(() -> render(t -> t.set("operator.image.tag", "latest"))).hasMessageContaining("tag");
        assertThatThrownBy(() -> render(t -> t.set("webhook.timeoutSeconds", 30))).hasMessageContaining("timeoutSeconds");
    }

    @Test
    void theChartsCrdsAreTheSameBytesAsCrds() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("../crds"))) {
            List<Path> crds = files.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
            assertThat(crds).extracting(p -> p.getFileName().toString()).containsExactly("budgets.finops.ai-v1.yml",
                    "mcpservers.finops.ai-v1.yml", "providerdeployments.finops.ai-v1.yml", "routingrules.finops.ai-v1.yml", "virtualkeys.finops.ai-v1.yml");
            for (Path crd : crds) {
                assertThat(Files.readString(CHART.resolve("crds").resolve(crd.getFileName())))
                        .as("charts/finops/crds/%s differs from crds/; copy it", crd.getFileName()).isEqualTo(Files.readString(crd));
            }
        }
        try (Stream<Path> files = Files.list(CHART.resolve("crds"))) {
            assertThat(files.count()).isEqualTo(5);
        }
    }
}
