package ai.finops.gateway.governance;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.observability.Pricing;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.routing.ModelEntry;
import ai.finops.gateway.translate.RequestBody;
import ai.finops.gateway.translate.Usage;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.EmbeddedCounterStore;
import ai.finops.testkit.MovingClock;
import io.netty.buffer.Unpooled;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The admit step on a clock the test moves: calendar periods that end in a time zone, rolling windows, refusals' words. */
class GovernanceAdmissionTest {
    /** $1 input (and cache write) per million: a body of b bytes reserves (b + 1,024) µ$ of input, plus 100 µ$ of output. */
    static final ModelEntry MODEL = new ModelEntry("m", "m", new Pricing(BigDecimal.ONE, BigDecimal.ONE, BigDecimal.ONE, BigDecimal.ONE));
    static final Attempt ATTEMPT = CostEstimatorTest.attempt(MODEL, false);

    final MovingClock clock = new MovingClock(Instant.parse("2026-12-31T22:00:00Z"));
    final EmbeddedCounterStore store = new EmbeddedCounterStore(null);
    final List<String> refusals = new ArrayList<>();
    final GovernanceAdmission admission = new GovernanceAdmission(store, "ns", clock, () -> Duration.ofMinutes(15), refusals::add);
    final RequestBody body = body();

    @AfterEach
    void close() {
        store.close();
    }

    static RequestBody body() {
        try {
            return RequestBody.scan(Unpooled.wrappedBuffer("{\"model\":\"m\",\"max_tokens\":100,\"messages\":[]}".getBytes(StandardCharsets.UTF_8)));
        } catch (RequestBody.InvalidBody e) {
            throw new AssertionError(e);
        }
    }

    long reservation() {
        return body.size() + 1_024 + 100;
    }

    static KeyEntry key(CompiledBudget budget) {
        return new KeyEntry("alice", null, "platform", new byte[32], false, null, List.of(), List.of(), budget, KeyEntry.RateLimits.NONE);
    }

    static CompiledBudget monthly(long limitMicros, ZoneId zone) {
        return new CompiledBudget(CompiledBudget.Kind.VIRTUAL_KEY, "alice", List.of(), List.of("alice"), List.of(), limitMicros,
                BudgetPeriod.MONTHLY, null, zone, BudgetAction.BLOCK, List.of());
    }

    static CompiledBudget rolling(long limitMicros, Duration window) {
        return new CompiledBudget(CompiledBudget.Kind.BUDGET, "weekly", List.of(), List.of(), List.of(), limitMicros,
                null, window, null, BudgetAction.BLOCK, List.of());
    }

    Admission.Verdict admit(KeyEntry key, List<CompiledBudget> budgets) {
        return admission.admit(new Admission.Request(key, budgets, List.of(ATTEMPT), body)).toCompletableFuture().join();
    }

    /** Admits, then settles at {@code costMicros}. */
    void spend(KeyEntry key, List<CompiledBudget> budgets, long costMicros) {
        Admission.Verdict v = admit(key, budgets);
        assertThat(v).isInstanceOf(Admission.Admitted.class);
        Usage usage = new Usage();
        usage.seen = true;
        GatewayMetrics.RequestRecord record = new GatewayMetrics.RequestRecord("anthropic", "direct", "anthropic", "d", "m", "m", "alice",
                "ok", 200, 1, 1, usage, BigDecimal.valueOf(costMicros, 6), false);
        ((Admission.Admitted) v).settlement().ended(new ExchangeListener.RequestEnd(record, "r", null, "m", "/v1/messages", 1, List.of(),
                "platform", ATTEMPT, null, null, null));
    }

    @Test
    void aMonthInParisEndsAtItsMidnightNotUtcs() {
        KeyEntry key = key(monthly(10_000, ZoneId.of("Europe/Paris")));
        spend(key, List.of(), 10_000 - reservation() + 1);     // one micro-dollar too much left for another
        clock.set(Instant.parse("2026-12-31T22:59:59Z"));       // 23:59:59 in Paris
        Admission.Verdict refused = admit(key, List.of());
        assertThat(refused).isInstanceOf(Admission.Refused.class);
        assertThat(((Admission.Refused) refused).status()).isEqualTo(402);
        assertThat(((Admission.Refused) refused).message()).contains("Monthly limit (Europe/Paris)", "resets at 2026-12-31T23:00:00Z");
        clock.set(Instant.parse("2026-12-31T23:00:00Z"));       // January 1st in Paris, still December in UTC
        assertThat(admit(key, List.of())).as("a new period, from zero").isInstanceOf(Admission.Admitted.class);
        assertThat(refusals).containsExactly("budget");
    }

    @Test
    void aRollingWindowCountsEveryBucketItCoversAndForgetsWhatLeftIt() {
        CompiledBudget window = rolling(10_000, Duration.ofHours(2));
        KeyEntry key = key(null);
        clock.set(Instant.parse("2026-12-07T10:30:00Z"));
        spend(key, List.of(window), 9_000);
        clock.set(Instant.parse("2026-12-07T11:10:00Z"));       // another bucket, same window
        Admission.Verdict refused = admit(key, List.of(window));
        assertThat(refused).as("9,000 spent an hour ago + %d reserved > 10,000", reservation()).isInstanceOf(Admission.Refused.class);
        assertThat(((Admission.Refused) refused).message()).contains("budget \"weekly\" is exhausted: $0.01 of its $0.01 rolling 2h limit",
                "room comes back as spend older than the window leaves it, from 2026-12-07T12:00:00Z");
        spend(key, List.of(rolling(20_000, Duration.ofHours(2))), 1_000);   // a raised limit: the same buckets
        clock.set(Instant.parse("2026-12-07T13:00:00Z"));       // 10:30 is in the 10:00 bucket, out of the 2 h (and 1 bucket) read
        // what the gateway read of the earlier buckets is refreshed in the background: the first request of a new bucket reads them
        assertThat(admit(key, List.of(window))).as("the 9,000 left the window; the 1,000 of 11:10 is in it")
                .isInstanceOf(Admission.Admitted.class);
        Admission.Admitted admitted = (Admission.Admitted) admit(key, List.of(window));
        assertThat(admitted.quota().budgetRemainingMicros()).isEqualTo(10_000 - 1_000 - reservation());
    }

    @Test
    void aKeyWithoutLimitsNeverReachesTheStore() {
        CompiledBudget otherTeam = new CompiledBudget(CompiledBudget.Kind.BUDGET, "other", List.of("other"), List.of(), List.of(), 1,
                BudgetPeriod.DAILY, null, null, BudgetAction.BLOCK, List.of());
        Admission.Verdict v = admit(key(null), List.of(otherTeam));
        assertThat(v).isSameAs(Admission.Admitted.FREELY);
    }

    @Test
    void aPricedToolCallIsChargedOnlyWhenSettledAsChargedAndRefusedOnceTheBudgetHasNoRoomForIt() {
        KeyEntry key = key(monthly(5_000, ZoneId.of("UTC")));
        CompiledBudget tools = new CompiledBudget(CompiledBudget.Kind.BUDGET, "gh-tools", List.of(), List.of(), List.of("gh__*"), 1_000_000,
                BudgetPeriod.MONTHLY, null, ZoneId.of("UTC"), BudgetAction.WARN, List.of());
        CompiledBudget models = new CompiledBudget(CompiledBudget.Kind.BUDGET, "opus", List.of(), List.of(), List.of("claude-opus-*"), 1_000_000,
                BudgetPeriod.MONTHLY, null, ZoneId.of("UTC"), BudgetAction.BLOCK, List.of());
        List<CompiledBudget> budgets = List.of(tools, models);
        Admission.Call call = new Admission.Call(key, budgets, "gh__search", 2_000);

        call(call).settlement().settle(true);
        call(call).settlement().settle(false);      // an upstream error: the reservation given back
        Admission.CallSettlement twice = call(call).settlement();
        twice.settle(true);
        twice.settle(true);                          // settled once
        assertThat(used(CounterKeys.VIRTUAL_KEY, "alice")).isEqualTo(4_000);
        assertThat(used(CounterKeys.BUDGET, "gh-tools")).as("a Budget over the tool's name").isEqualTo(4_000);
        assertThat(used(CounterKeys.BUDGET, "opus")).as("a Budget over models only").isZero();

        Admission.Verdict refused = admission.admitCall(call).toCompletableFuture().join();
        assertThat(refused).isInstanceOfSatisfying(Admission.Refused.class, r -> {
            assertThat(r.status()).isEqualTo(402);
            assertThat(r.type()).isEqualTo("billing_error");
            assertThat(r.message()).startsWith("the budget of virtual key \"alice\" is exhausted: $0.004 of its $0.005 Monthly limit (UTC)"
                    + " is spent or reserved, and this tool call costs $0.002; it resets at ");
        });
        assertThat(refusals).containsExactly("budget");
        assertThat(admission.admitCall(new Admission.Call(key, budgets, "gh__free", 0)).toCompletableFuture().join())
                .as("a free call: no budget applies").isSameAs(Admission.AdmittedCall.FREELY);
    }

    Admission.AdmittedCall call(Admission.Call call) {
        Admission.Verdict v = admission.admitCall(call).toCompletableFuture().join();
        assertThat(v).isInstanceOf(Admission.AdmittedCall.class);
        return (Admission.AdmittedCall) v;
    }

    long used(String kind, String name) {
        ai.finops.governance.CounterStore.Counter c = CounterKeys.spend("ns", kind, name, 1, BudgetPeriod.MONTHLY, ZoneId.of("UTC"), clock.instant());
        return store.used(List.of(c), clock.instant()).toCompletableFuture().join().getOrDefault(c.key(), 0L);
    }
}
