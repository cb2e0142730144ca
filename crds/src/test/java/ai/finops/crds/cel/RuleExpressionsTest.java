package ai.finops.crds.cel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleExpressionsTest {
    static final String TYPICAL = "model == \"sonnet-model\" && headers[\"user-agent\"].startsWith(\"claude-cli\")";

    static Map<String, Object> vars(String model, Map<String, String> headers) {
        Map<String, Object> v = new HashMap<>();
        v.put("model", model);
        v.put("headers", headers);
        v.put("virtualKey", "alice");
        v.put("team", "platform");
        v.put("api", "anthropic");
        v.put("path", "/v1/messages");
        return v;
    }

    @Test
    void typicalExpression() {
        RuleExpressions.Compiled c = RuleExpressions.compile(TYPICAL);
        assertThat(c.source()).isEqualTo(TYPICAL);
        assertThat(c.test(vars("sonnet-model", Map.of("user-agent", "claude-cli/2.1.328 (external, cli)")))).isTrue();
        assertThat(c.test(vars("sonnet-model", Map.of("user-agent", "curl/8")))).isFalse();
        assertThat(c.test(vars("other", Map.of("user-agent", "claude-cli/2")))).isFalse();
    }

    @Test
    void missingHeaderIsNoMatchNotAnException() {
        RuleExpressions.Compiled c = RuleExpressions.compile("headers[\"user-agent\"].startsWith(\"claude-cli\")");
        assertThat(c.test(vars("m", Map.of()))).isFalse();
        assertThat(RuleExpressions.compile("!headers[\"user-agent\"].startsWith(\"x\")").test(vars("m", Map.of()))).isFalse();
        RuleExpressions.Evaluation e = c.evaluate(vars("m", Map.of()));
        assertThat(e.matched()).isFalse();
        assertThat(e.error()).contains("user-agent");
        // CEL's logical operators absorb the error when the other side decides
        assertThat(RuleExpressions.compile("model == \"m\" || headers[\"x\"] == \"y\"").test(vars("m", Map.of()))).isTrue();
        assertThat(RuleExpressions.compile("!(\"user-agent\" in headers) || headers[\"user-agent\"] == \"a\"")
                .test(vars("m", Map.of()))).isTrue();
    }

    @Test
    void missingVariablesAreEmpty() {
        assertThat(RuleExpressions.compile("team == \"\" && size(headers) == 0").test(Map.of())).isTrue();
        assertThat(RuleExpressions.compile("team == \"\"").test(null)).isTrue();
    }

    @Test
    void standardFunctionsAndIn() {
        Map<String, Object> v = vars("claude-sonnet-4-6", Map.of("x-team", "ml", "user-agent", "claude-cli/2"));
        for (String expr : List.of(
                "\"x-team\" in headers",
                "model.startsWith(\"claude-\") && model.endsWith(\"-4-6\") && model.contains(\"sonnet\")",
                "model.matches(\"sonnet\")",
                "model.matches(\"^claude-(sonnet|opus)-[0-9]\")",
                "size(model) > 5",
                "api == \"anthropic\" && path == \"/v1/messages\" && virtualKey == \"alice\" && team == \"platform\"",
                "headers.exists(k, k.startsWith(\"x-\"))",
                "model in [\"claude-sonnet-4-6\", \"claude-opus-4-1\"]")) {
            assertThat(RuleExpressions.compile(expr).test(v)).as(expr).isTrue();
        }
        assertThat(RuleExpressions.compile("\"x-other\" in headers").test(v)).isFalse();
    }

    @Test
    void syntaxErrorsCarryCelTextWithLocation() {
        assertThatThrownBy(() -> RuleExpressions.compile("model == "))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ERROR")
                .hasMessageContaining("1:");
    }

    @Test
    void typeErrorsAreRejected() {
        assertThatThrownBy(() -> RuleExpressions.compile("modle == \"x\""))
                .hasMessageContaining("undeclared reference to 'modle'");
        assertThatThrownBy(() -> RuleExpressions.compile("model == 1")).hasMessageContaining("no matching overload");
        assertThatThrownBy(() -> RuleExpressions.compile("model")).hasMessageContaining("must evaluate to bool").hasMessageContaining("string");
        assertThatThrownBy(() -> RuleExpressions.compile("size(model)")).hasMessageContaining("must evaluate to bool");
        assertThatThrownBy(() -> RuleExpressions.compile(" ")).hasMessageContaining("empty");
        assertThat(RuleExpressions.check("model == \"x\"")).isEmpty();
        assertThat(RuleExpressions.check("model ==")).isPresent();
    }

    @Test
    void tooLongExpressionsAreRejected() {
        String expr = "model == \"" + "x".repeat(RuleExpressions.MAX_EXPRESSION_LENGTH) + "\"";
        assertThatThrownBy(() -> RuleExpressions.compile(expr)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void threadSafe() throws Exception {
        RuleExpressions.Compiled c = RuleExpressions.compile(TYPICAL);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        boolean expected = (i + id) % 2 == 0;
                        Map<String, Object> v = vars("sonnet-model", expected ? Map.of("user-agent", "claude-cli/1") : Map.of());
                        if (c.test(v) != expected) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void evaluationIsFast() {
        RuleExpressions.Compiled c = RuleExpressions.compile(TYPICAL);
        Map<String, Object> hit = vars("sonnet-model", Map.of("user-agent", "claude-cli/2.1.328 (external, cli)", "x-bf-vk", "vk"));
        Map<String, Object> missing = vars("sonnet-model", Map.of("x-bf-vk", "vk"));
        int sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += c.test(hit) ? 1 : 0;
            sink += c.test(missing) ? 1 : 0;
        }
        int n = 50_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            sink += c.test(hit) ? 1 : 0;
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            sink += c.test(missing) ? 1 : 0;
        }
        long t2 = System.nanoTime();
        RuleExpressions.Compiled guarded = RuleExpressions.compile(
                "model == \"sonnet-model\" && \"user-agent\" in headers && headers[\"user-agent\"].startsWith(\"claude-cli\")");
        for (int i = 0; i < 20_000; i++) {
            sink += guarded.test(missing) ? 1 : 0;
        }
        long t3 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            sink += guarded.test(missing) ? 1 : 0;
        }
        long t4 = System.nanoTime();
        System.out.printf("RuleExpressions: typical expression %.2f us/eval (header present), %.2f us/eval (header absent: error path),"
                + " %.2f us/eval (absent, guarded with 'in')%n",
                (t1 - t0) / 1000.0 / n, (t2 - t1) / 1000.0 / n, (t4 - t3) / 1000.0 / n);
        assertThat(sink).isPositive();
    }
}
