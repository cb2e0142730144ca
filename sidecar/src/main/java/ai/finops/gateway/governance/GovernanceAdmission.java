package ai.finops.gateway.governance;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.governance.CostEstimator.Estimate;
import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.routing.Attempt;
import ai.finops.gateway.translate.Usage;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore;
import ai.finops.governance.CounterStore.Charge;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.Periods;
import ai.finops.governance.RollingWindow;
import ai.finops.governance.StoreUnavailable;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Budgets and rate limits, enforced: before the first attempt, one atomic reservation over every
 * counter the request is charged against; at its end, one settle with what it really used.
 *
 * <p>A request of a key is charged against:
 * <ul>
 * <li>the key's {@code rateLimits}: one request in the sliding minute, its reserved tokens (input
 *     estimated from the body plus output as {@code max_tokens}: {@link CostEstimator}) in the
 *     sliding minute, one slot of its concurrent requests;</li>
 * <li>the key's own {@code budget} and every Budget that covers the key and the model (as requested,
 *     or as any attempt resolves it): the worst-case cost of its costliest attempt
 *     ({@link Reservations#costliest}) in the budget's current period. A {@code Warn} budget is
 *     charged the same but never refuses.</li>
 * </ul>
 * At the end it settles: the spend of each budget becomes what the answer's usage cost at the
 * answering model's prices (zero when no provider answered, or when a model-scoped budget does not
 * cover the model that answered), the tokens become what the usage says (zero without usage), the
 * request still counts in its minute, and its slot is released.
 *
 * <p>A rolling budget ({@link RollingWindow}) is charged in its current bucket, whose limit is what the
 * budget's limit leaves after the window's earlier buckets: their sum is read from the store once per
 * bucket and gateway before the first request (the request waits for it), then again in the background
 * every few seconds, so spend of other replicas in earlier buckets is seen within seconds. The current
 * bucket is decided atomically, like any counter.
 */
public final class GovernanceAdmission implements Admission {
    private static final Logger LOG = LoggerFactory.getLogger(GovernanceAdmission.class);
    private static final CompletionStage<Verdict> FREELY = CompletableFuture.completedFuture(Admitted.FREELY);
    private static final CompletionStage<Verdict> FREE_CALL = CompletableFuture.completedFuture(AdmittedCall.FREELY);
    /** When a key at its concurrent-requests limit may try again. */
    static final Duration CONCURRENCY_RETRY = Duration.ofSeconds(1);
    /** When to try again after the store could not decide. */
    static final Duration STORE_RETRY = Duration.ofSeconds(5);
    /** The limit a Warn budget's counter gets: the largest a store holds, so it never refuses. */
    private static final long UNLIMITED = (1L << 53) - 1;

    private final CounterStore store;
    private final String namespace;
    private final Clock clock;
    private final Supplier<Duration> reservationTtl;
    private final Consumer<String> refusals;
    /** What each spend counter was last known to hold (spent and reserved), for the rules' {@code budget}. */
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    /** How old a known spend may be before the rules' {@code budget} asks the store again (in the background). */
    static final long FRESH_NANOS = Duration.ofSeconds(5).toNanos();

    private record Seen(long used, long atNanos, boolean asking) {}

    /** By {@link Rolling#cacheKey()}: the sums of rolling budgets' earlier buckets, read at most every {@link #FRESH_NANOS}. */
    private final Map<String, Earlier> earlier = new ConcurrentHashMap<>();

    /**
     * @param namespace      the namespace in the counters' names ({@link CounterKeys})
     * @param reservationTtl how long a reservation holds when its request never settles (a gateway that died)
     * @param refusals       told the reason of every refusal ({@link Refused#reason()})
     */
    public GovernanceAdmission(CounterStore store, String namespace, Clock clock, Supplier<Duration> reservationTtl, Consumer<String> refusals) {
        this.store = store;
        this.namespace = namespace;
        this.clock = clock;
        this.reservationTtl = reservationTtl;
        this.refusals = refusals;
    }

    @Override
    public String describe() {
        return store.mode() + ": " + store;
    }

    @Override
    public CompletionStage<Verdict> admit(Request request) {
        KeyEntry key = request.key();
        KeyEntry.RateLimits limits = key.rateLimits();
        Instant now = clock.instant();
        List<Rolling> unknown = new ArrayList<>(0);
        List<Charged> budgets = budgets(request, now, null, unknown);
        if (!unknown.isEmpty()) {
            // a rolling budget's earlier buckets not read yet: read them, then decide
            return readEarlier(unknown, now).thenCompose(read -> admit(request));
        }
        if (budgets.isEmpty() && limits.isEmpty()) {
            return FREELY;
        }
        Estimate estimate = Reservations.costliest(request.attempts(), request.body().size(), request.body().maxTokens());
        Reservation r = new Reservation(key, request.body().model(), budgets, estimate, now);
        if (limits.requestsPerMinute() > 0) {
            r.rpm = CounterKeys.requestsPerMinute(namespace, key.name(), limits.requestsPerMinute());
            r.charges.add(new Charge(r.rpm, 1));
        }
        if (limits.tokensPerMinute() > 0) {
            r.tpm = CounterKeys.tokensPerMinute(namespace, key.name(), limits.tokensPerMinute());
            r.charges.add(new Charge(r.tpm, r.tokens()));
        }
        if (limits.maxConcurrentRequests() > 0) {
            r.concurrent = CounterKeys.concurrent(namespace, key.name(), limits.maxConcurrentRequests());
            r.charges.add(new Charge(r.concurrent, 1));
        }
        for (Charged b : budgets) {
            r.charges.add(new Charge(b.counter(), estimate.microUsd()));
        }
        return store.reserve(r.id, r.charges, reservationTtl.get(), now).handle((decision, error) ->
                decided(r, decision, error, now, remaining -> new Admitted(new Settlement(r), r.quota(remaining))));
    }

    /**
     * A tool call: one request in the key's sliding minute, and, when it has a price, that price reserved in
     * every budget that covers the key and the call's model (a Warn budget counts it and never refuses), in the
     * same atomic step. Its settlement charges the price, or gives it back (the request still counts in its
     * minute). A free call settles at once.
     */
    @Override
    public CompletionStage<Verdict> admitCall(Call call) {
        KeyEntry key = call.key();
        long rpm = key.rateLimits().requestsPerMinute();
        Instant now = clock.instant();
        List<Charged> budgets = List.of();
        if (call.priceMicros() > 0) {
            List<Rolling> unknown = new ArrayList<>(0);
            budgets = budgets(new Request(key, call.budgets(), List.of(), null), now, new String[] {call.model()}, unknown);
            if (!unknown.isEmpty()) {
                return readEarlier(unknown, now).thenCompose(read -> admitCall(call));
            }
        }
        if (rpm <= 0 && budgets.isEmpty()) {
            return FREE_CALL;
        }
        Reservation r = new Reservation(key, call.model(), budgets, new Estimate(0, 0, call.priceMicros(), true), now);
        r.call = true;
        if (rpm > 0) {
            r.rpm = CounterKeys.requestsPerMinute(namespace, key.name(), rpm);
            r.charges.add(new Charge(r.rpm, 1));
        }
        for (Charged b : budgets) {
            r.charges.add(new Charge(b.counter(), call.priceMicros()));
        }
        return store.reserve(r.id, r.charges, reservationTtl.get(), now).handle((decision, error) ->
                decided(r, decision, error, now, remaining -> {
                    if (r.budgets.isEmpty()) {
                        store.settle(r.id, List.of(), now);     // the call is counted in its minute; nothing more is held
                        return AdmittedCall.FREELY;
                    }
                    return new AdmittedCall(new CallSettled(r)::settle);
                }));
    }

    @Override
    public Map<String, Double> budgetVariables(KeyEntry key, List<CompiledBudget> budgets, String model) {
        Instant now = clock.instant();
        List<Rolling> unknown = new ArrayList<>(0);
        List<Charged> applicable = budgets(new Request(key, budgets, List.of(), null), now, new String[] {model}, unknown);
        if (!unknown.isEmpty()) {
            readEarlier(unknown, now);      // known for the next request
        }
        if (applicable.isEmpty()) {
            return ai.finops.crds.cel.RuleExpressions.NO_BUDGET;
        }
        refresh(applicable, now);
        double ratio = -1;     // the tightest budget: the highest share used
        long left = 0;
        for (Charged b : applicable) {
            Seen s = seen.get(b.counter().key());
            long used = b.earlier() + (s == null ? 0 : s.used());
            long limit = b.budget().limitMicros();
            double r = limit == 0 ? (used > 0 ? Double.POSITIVE_INFINITY : 1.0) : (double) used / limit;
            if (r > ratio) {
                ratio = r;
                left = limit - used;
            }
        }
        return Map.of("usedRatio", ratio, "remainingUsd", left / 1e6);
    }

    /** Reads the counters not known or known for too long, in the background; a store that answers at once updates them now. */
    private void refresh(List<Charged> budgets, Instant now) {
        long t = System.nanoTime();
        List<Counter> stale = new ArrayList<>(budgets.size());
        for (Charged b : budgets) {
            String k = b.counter().key();
            Seen s = seen.get(k);
            if (s == null || !s.asking() && t - s.atNanos() > FRESH_NANOS) {
                seen.put(k, new Seen(s == null ? 0 : s.used(), s == null ? t - FRESH_NANOS - 1 : s.atNanos(), true));
                stale.add(b.counter());
            }
        }
        if (stale.isEmpty()) {
            return;
        }
        store.used(stale, now).whenComplete((used, error) -> {
            for (Counter c : stale) {
                Seen s = seen.get(c.key());
                if (used != null) {
                    saw(c.key(), used.getOrDefault(c.key(), 0L));
                } else if (s != null) {
                    seen.put(c.key(), new Seen(s.used(), s.atNanos(), false));
                }
            }
        });
    }

    private void saw(String counterKey, long used) {
        seen.put(counterKey, new Seen(used, System.nanoTime(), false));
        if (seen.size() > 100_000) {
            seen.clear();     // keys of periods gone by; what matters is read again
        }
    }

    /**
     * The budgets that apply: the key's own and every Budget covering the key and the model. A rolling
     * budget whose earlier buckets this gateway has not read yet goes to {@code unknown} instead.
     */
    private List<Charged> budgets(Request request, Instant now, String[] models, List<Rolling> unknown) {
        KeyEntry key = request.key();
        List<Charged> out = new ArrayList<>(2);
        if (key.budget() != null) {
            add(key.budget(), CounterKeys.VIRTUAL_KEY, out, now, unknown);
        }
        if (request.budgets().isEmpty()) {
            return out;
        }
        if (models == null) {
            models = models(request);
        }
        for (CompiledBudget b : request.budgets()) {
            if (b.covers(key, models)) {
                add(b, CounterKeys.BUDGET, out, now, unknown);
            }
        }
        return out;
    }

    private void add(CompiledBudget b, String kind, List<Charged> out, Instant now, List<Rolling> unknown) {
        boolean warn = b.action() == ai.finops.crds.BudgetAction.WARN;
        if (b.rolling()) {
            RollingWindow window = RollingWindow.of(b.duration());
            Rolling rolling = new Rolling(b, kind, window, window.current(now));
            Earlier earlier = this.earlier.get(rolling.cacheKey());
            if (earlier == null) {
                unknown.add(rolling);
                return;
            }
            // the current bucket may take what the earlier ones left; a Warn budget is counted with no limit: it never refuses
            long limit = warn ? UNLIMITED : Math.max(0, Math.min(b.limitMicros(), UNLIMITED) - earlier.sum());
            out.add(new Charged(b, CounterKeys.rolling(namespace, kind, b.name(), limit, window, rolling.bucket()), rolling, earlier.sum()));
            return;
        }
        long limit = warn ? UNLIMITED : Math.min(b.limitMicros(), UNLIMITED);
        Counter c = CounterKeys.spend(namespace, kind, b.name(), limit, b.period(), b.timeZone(), now);
        out.add(new Charged(b, c, null, 0));
    }

    /** Reads the earlier buckets of rolling budgets and keeps their sums for the current bucket. */
    private CompletionStage<Void> readEarlier(List<Rolling> budgets, Instant now) {
        List<Counter> counters = new ArrayList<>();
        for (Rolling r : budgets) {
            for (String suffix : r.window().earlier(now)) {
                counters.add(CounterKeys.rolling(namespace, r.kind(), r.budget().name(), 1, r.window(), suffix));
            }
        }
        if (counters.isEmpty()) {
            budgets.forEach(r -> earlier.put(r.cacheKey(), new Earlier(0, System.nanoTime(), false)));
            return CompletableFuture.completedFuture(null);
        }
        return store.used(counters, now).thenAccept(used -> {
            long at = System.nanoTime();
            for (Rolling r : budgets) {
                long sum = 0;
                for (String suffix : r.window().earlier(now)) {
                    sum += used.getOrDefault(CounterKeys.spendKey(namespace, r.kind(), r.budget().name(), suffix), 0L);
                }
                earlier.put(r.cacheKey(), new Earlier(sum, at, false));
            }
            if (earlier.size() > 10_000) {
                earlier.keySet().removeIf(k -> !k.endsWith("@" + budgets.get(0).bucket()));
            }
        });
    }

    /** Reads a rolling budget's earlier buckets again, in the background, once what is known is older than {@link #FRESH_NANOS}. */
    private void refreshEarlier(Rolling r, Instant now) {
        Earlier known = earlier.get(r.cacheKey());
        if (known != null && !known.asking() && System.nanoTime() - known.atNanos() > FRESH_NANOS) {
            earlier.put(r.cacheKey(), new Earlier(known.sum(), known.atNanos(), true));
            readEarlier(List.of(r), now).whenComplete((ok, error) -> {
                if (error != null) {
                    earlier.put(r.cacheKey(), new Earlier(known.sum(), known.atNanos(), false));
                }
            });
        }
    }

    /** The model as requested and as every attempt resolves it: what a model-scoped budget's globs are matched against. */
    private static String[] models(Request request) {
        List<Attempt> attempts = request.attempts();
        String[] models = new String[attempts.size() + 1];
        models[0] = request.body().model();
        for (int i = 0; i < attempts.size(); i++) {
            models[i + 1] = attempts.get(i).model().name();
        }
        return models;
    }

    /**
     * The store's answer to reservation {@code r}: unavailable, refused (a spend counter's use noted), or granted
     * (each budget's use noted) and then what {@code granted} makes of the counters' remaining room.
     */
    private Verdict decided(Reservation r, CounterStore.Decision decision, Throwable error, Instant now,
            Function<Map<String, Long>, Verdict> granted) {
        if (error != null) {
            return unavailable(r.key, error);
        }
        if (decision instanceof CounterStore.Refused refused) {
            if (refused.counter().kind() == Counter.Kind.SPEND) {
                saw(refused.counter().key(), refused.used());
            }
            return refused(r, refused);
        }
        Map<String, Long> remaining = ((CounterStore.Granted) decision).remaining();
        for (Charged b : r.budgets) {
            saw(b.counter().key(), b.counter().limit() - remaining.getOrDefault(b.counter().key(), 0L));
            if (b.rolling() != null) {
                refreshEarlier(b.rolling(), now);
            }
        }
        return granted.apply(remaining);
    }

    private Verdict refused(Reservation r, CounterStore.Refused refused) {
        Counter c = refused.counter();
        Refused verdict = switch (c.kind()) {
            case SPEND -> budgetExhausted(r, c, refused.used());
            case REQUESTS_PER_MINUTE -> rateLimited(r.key, refused, "requests", c.limit(), 1);
            case TOKENS_PER_MINUTE -> rateLimited(r.key, refused, "tokens", c.limit(), r.tokens());
            case CONCURRENT -> new Refused(429, "rate_limit_error", "virtual key \"" + r.key.name() + "\" already has " + refused.used()
                    + " requests in flight, its maxConcurrentRequests", CONCURRENCY_RETRY, "concurrency");
        };
        refusals.accept(verdict.reason());
        return verdict;
    }

    private Refused budgetExhausted(Reservation r, Counter c, long used) {
        Charged b = r.budget(c);
        CompiledBudget budget = b.budget();
        String name = budget.kind() == CompiledBudget.Kind.VIRTUAL_KEY ? "the budget of virtual key \"" + budget.name() + "\""
                : "budget \"" + budget.name() + "\"";
        String limit;
        String resets;
        if (b.rolling() != null) {
            Duration d = budget.duration();
            limit = "rolling " + (d.toHours() % 24 == 0 ? d.toDays() + "d" : d.toHours() + "h") + " limit";
            resets = "room comes back as spend older than the window leaves it, from " + b.rolling().window().nextBucket(r.now);
        } else {
            Periods.Period period = Periods.of(budget.period(), budget.timeZone()).current(r.now);
            limit = budget.period().id() + " limit (" + budget.timeZone() + ")";
            resets = period.end() == null ? "it never resets (period Total)" : "it resets at " + period.end();
        }
        if (r.call) {
            // a tool's price is often a fraction of a cent: the amounts exact
            return new Refused(402, "billing_error", name + " is exhausted: $" + exactUsd(b.earlier() + used) + " of its $"
                    + exactUsd(budget.limitMicros()) + " " + limit + " is spent or reserved, and this tool call costs $"
                    + exactUsd(r.estimate.microUsd()) + "; " + resets, null, "budget");
        }
        return new Refused(402, "billing_error", name + " is exhausted: " + usd(b.earlier() + used) + " of its " + usd(budget.limitMicros())
                + " " + limit + " is spent or reserved, and this request may cost up to " + usd(r.estimate.microUsd()) + "; " + resets,
                null, "budget");
    }

    private Refused rateLimited(KeyEntry key, CounterStore.Refused refused, String unit, long limit, long charge) {
        String what = "virtual key \"" + key.name() + "\" may use " + limit + " " + unit + " per minute";
        if (refused.retryAfter() == null) {
            // more than the whole window holds: waiting cannot help
            return new Refused(400, "invalid_request_error", what + ", and this request alone reserves " + charge + " " + unit
                    + " (its body's bytes and max_tokens); send a smaller request or raise the key's tokensPerMinute", null, "too_large");
        }
        Duration wait = refused.retryAfter();
        long seconds = Math.max(1, (wait.toMillis() + 999) / 1000);
        return new Refused(429, "rate_limit_error", what + "; try again in " + seconds + " s", Duration.ofSeconds(seconds), "rate_limit");
    }

    private Verdict unavailable(KeyEntry key, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (!(cause instanceof StoreUnavailable)) {
            LOG.atError().setCause(cause).addKeyValue("virtual_key", key.name()).log("admission failed");
        }
        refusals.accept("store_unavailable");
        return new Refused(503, "api_error", "budgets and rate limits cannot be checked now: the governance store did not answer ("
                + cause.getMessage() + ")", STORE_RETRY, "store_unavailable");
    }

    /** Micro-dollars as dollars with as many digits as they need, at least two: {@code 0.002}, {@code 1.50}. */
    private static String exactUsd(long micros) {
        BigDecimal usd = BigDecimal.valueOf(micros, 6).stripTrailingZeros();
        return usd.scale() < 2 ? usd.setScale(2).toPlainString() : usd.toPlainString();
    }

    private static String usd(long micros) {
        return "$" + BigDecimal.valueOf(micros, 6).setScale(2, java.math.RoundingMode.HALF_UP).toPlainString();
    }

    /**
     * A budget that applies, and its counter in the current period (for a rolling budget, the current
     * bucket, and what its earlier buckets in the window hold).
     */
    private record Charged(CompiledBudget budget, Counter counter, Rolling rolling, long earlier) {}

    /** A rolling budget at its current bucket. */
    private record Rolling(CompiledBudget budget, String kind, RollingWindow window, String bucket) {
        String cacheKey() {
            return kind + "/" + budget.name() + "/" + window.window() + "@" + bucket;
        }
    }

    /** What a rolling budget's earlier buckets held when this gateway last read them. */
    private record Earlier(long sum, long atNanos, boolean asking) {}

    /** One admitted request's reservation: what it charged, to settle at its end. */
    private final class Reservation {
        final String id = newId();
        final KeyEntry key;
        final String requestedModel;
        final List<Charged> budgets;
        final Estimate estimate;
        final Instant now;
        final List<Charge> charges = new ArrayList<>(6);
        Counter rpm;
        Counter tpm;
        Counter concurrent;
        /** A tool call ({@link #admitCall}), whose estimate is its price. */
        boolean call;

        Reservation(KeyEntry key, String requestedModel, List<Charged> budgets, Estimate estimate, Instant now) {
            this.key = key;
            this.requestedModel = requestedModel;
            this.budgets = budgets;
            this.estimate = estimate;
            this.now = now;
        }

        long tokens() {
            return estimate.inputTokens() + estimate.outputTokens();
        }

        Charged budget(Counter c) {
            for (Charged b : budgets) {
                if (b.counter().key().equals(c.key())) {
                    return b;
                }
            }
            throw new IllegalStateException("no budget counts as " + c.key());
        }

        /** The headers' figures: the windows' room after this request, the tightest budget's before it. */
        Quota quota(Map<String, Long> remaining) {
            Long budgetLeft = null;
            boolean blocking = false;
            for (Charged b : budgets) {
                long used = b.earlier() + b.counter().limit() - remaining.getOrDefault(b.counter().key(), 0L) - estimate.microUsd();
                long left = b.budget().limitMicros() - used;
                boolean block = b.budget().action() != ai.finops.crds.BudgetAction.WARN;
                if (budgetLeft == null || block && !blocking || block == blocking && left < budgetLeft) {
                    budgetLeft = left;
                    blocking |= block;
                }
            }
            return new Quota(
                    rpm == null ? 0 : rpm.limit(), rpm == null ? 0 : remaining.getOrDefault(rpm.key(), 0L), reset(rpm, remaining),
                    tpm == null ? 0 : tpm.limit(), tpm == null ? 0 : remaining.getOrDefault(tpm.key(), 0L), reset(tpm, remaining),
                    budgetLeft);
        }

        /** When a per-minute window is whole again: its used units drain at limit per minute. */
        private Instant reset(Counter c, Map<String, Long> remaining) {
            if (c == null) {
                return null;
            }
            long used = c.limit() - remaining.getOrDefault(c.key(), 0L);
            long micros = c.limit() == 0 ? 0 : (Math.max(0, used) * 60_000_000L + c.limit() - 1) / c.limit();
            return now.plusNanos(micros * 1_000);
        }

        static String newId() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            return HexFormat.of().toHexDigits(random.nextLong()) + HexFormat.of().toHexDigits(random.nextLong());
        }
    }

    /** Settles a tool call's reservation once: its price charged to every budget it reserved in, or nothing. */
    private final class CallSettled {
        private final Reservation r;
        private final AtomicBoolean settled = new AtomicBoolean();

        CallSettled(Reservation r) {
            this.r = r;
        }

        void settle(boolean charged) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            List<Charge> actual = new ArrayList<>(r.budgets.size());
            for (Charged b : r.budgets) {
                actual.add(new Charge(b.counter(), charged ? r.estimate.microUsd() : 0));
            }
            store.settle(r.id, actual, clock.instant()).whenComplete((ok, error) -> {
                if (error != null) {
                    LOG.atWarn().addKeyValue("virtual_key", r.key.name()).addKeyValue("error", String.valueOf(error.getMessage()))
                            .log("settle of a tool call failed; the reservation lapses after its ttl");
                }
            });
        }
    }

    /** Settles a reservation when its request ends, however it ends. */
    private final class Settlement implements ExchangeListener.Observer {
        private final Reservation r;

        Settlement(Reservation r) {
            this.r = r;
        }

        @Override
        public void ended(ExchangeListener.RequestEnd end) {
            BigDecimal cost = end.record().costUsd();
            long micros = cost == null ? 0 : CostEstimator.micros(cost);
            Usage usage = end.record().usage();
            List<Charge> actual = new ArrayList<>(r.budgets.size() + 2);
            if (r.tpm != null) {
                actual.add(new Charge(r.tpm, usage.seen ? usage.totalTokens() : 0));
            }
            if (r.concurrent != null) {
                actual.add(new Charge(r.concurrent, 0));
            }
            String answered = end.record().model();
            for (Charged b : r.budgets) {
                actual.add(new Charge(b.counter(), b.budget().covers(r.key, r.requestedModel, answered) ? micros : 0));
            }
            store.settle(r.id, actual, clock.instant()).whenComplete((ok, error) -> {
                if (error != null) {
                    LOG.atWarn().addKeyValue("virtual_key", r.key.name()).addKeyValue("request_id", end.requestId())
                            .addKeyValue("error", String.valueOf(error.getMessage())).log("settle failed; the reservation lapses after its ttl");
                }
            });
        }
    }
}
