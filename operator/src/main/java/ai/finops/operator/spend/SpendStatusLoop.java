package ai.finops.operator.spend;

import ai.finops.crds.Budget;
import ai.finops.crds.BudgetAction;
import ai.finops.crds.BudgetPeriod;
import ai.finops.crds.BudgetSpec;
import ai.finops.crds.Resources;
import ai.finops.crds.Spend;
import ai.finops.crds.SpendStatus;
import ai.finops.crds.VirtualKey;
import ai.finops.crds.VirtualKeySpec;
import ai.finops.crds.validation.Money;
import ai.finops.crds.validation.ResourceValidator;
import ai.finops.crds.validation.TimeZones;
import ai.finops.governance.CounterKeys;
import ai.finops.governance.CounterStore;
import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.Periods;
import ai.finops.governance.RollingWindow;
import ai.finops.operator.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes what the gateways spent into {@code .status.spend} of every VirtualKey with a {@code
 * spec.budget} and every Budget of the served namespaces, with the condition {@value
 * SpendStatus#BUDGET_EXCEEDED}, and records an Event when a Budget crosses one of its {@code
 * alertAtPercent} thresholds. Run by the leader only, every interval (30 s by default).
 *
 * <p>Each round lists the two kinds, computes each one's counter in its current period ({@link
 * CounterKeys#spend}: the period and time zone of its spec; a VirtualKey's budget is Monthly unless it
 * says otherwise), reads all of them in one {@link CounterStore#used} call, and patches a status only
 * when something a reader would notice changed: the spend by a cent or more, the period, the limit, a
 * threshold announced, or the condition's status, reason or observed generation. So a quiet cluster
 * sees no writes ({@code finops_operator_writes_total{object="status",purpose="spend/<Kind>"}} stays
 * flat), and a busy one at most one write per resource and round.
 *
 * <p>What it cannot count it says so, and shows no spend: without a shared store (the gateways'
 * embedded stores, one per process) the condition is {@code Unknown} with reason {@value
 * #NO_SHARED_STORE}. A rolling window ({@code duration}) is the sum of its buckets ({@link RollingWindow}),
 * without a period end; its thresholds are announced again once its spend fell back below them. A round whose read fails writes nothing for the counted resources (the last
 * summary stays, with its {@code updatedAt}) and counts {@value OperatorMetrics#SPEND_STORE_ERRORS}.
 *
 * <p>The status is shared with the bundle reconciler, which owns {@code Accepted}, {@code
 * ResolvedRefs}, {@code Ready} and {@code observedGeneration}. This loop writes {@code /status/spend}
 * and its one condition with a JSON Patch: the condition is replaced at the index it was read from,
 * after a {@code test} of its type, or appended, and never is another writer's entry part of the patch
 * (the reconciler does the same with its own), so neither overwrites the other; a list that moved
 * fails the patch, which the next round retries. A resource the reconciler has not written a status
 * for yet is left for the next round, so the reconciler's first write (the whole {@code /status}) never
 * replaces a spend summary.
 *
 * <p>Threshold Events ({@value #THRESHOLD_REASON}; {@code Warning} at 100 %, {@code Normal} below) are
 * recorded once per threshold and period: the thresholds announced are kept in {@code
 * .status.spend.alertedPercent} beside the {@code periodStart} they belong to, so a restarted or new
 * leader does not announce them again. The Event is created before the status records it, with a name
 * made of the Budget, the period and the threshold, so a round that created it but failed to record it
 * finds it there (409) instead of creating a second one.
 */
public final class SpendStatusLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SpendStatusLoop.class);

    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final String THRESHOLD_REASON = "BudgetThresholdCrossed";
    public static final String LIMIT_REACHED = "LimitReached";
    public static final String UNDER_LIMIT = "UnderLimit";
    public static final String NO_SHARED_STORE = "NoSharedStore";
    /** The least change of spend that is written: one cent, in micro-dollars. */
    static final long CENT = 10_000;
    /** The largest limit a counter store takes (2^53 - 1 µ$, about nine billion dollars); a larger one is read as that. */
    private static final long MAX_COUNTER_LIMIT = (1L << 53) - 1;
    private static final String API_VERSION = Resources.GROUP + "/" + Resources.VERSION;

    /**
     * @param writes status patches made
     * @param events Events recorded
     * @param storeFailed the read of the shared store failed (nothing written for the counted resources)
     */
    public record Round(int writes, int events, boolean storeFailed) {}

    private final KubernetesClient client;
    private final CompletionStage<CounterStore> store;
    private final OperatorMetrics metrics;
    private final Set<String> namespaces;
    private final Clock clock;
    private final Duration storeWait;
    private final Map<GaugeId, Amounts> gauges = new ConcurrentHashMap<>();
    private volatile boolean storeFailing;
    private ScheduledExecutorService timer;

    /**
     * @param store the shared counter store, as it becomes ready (its client is built at start, off this
     *     loop's thread); null in embedded mode, where there is no spend to read
     * @param namespaces the namespaces the operator serves; empty: all
     * @param storeWait how long a round waits for the store to be ready and for its answer
     */
    public SpendStatusLoop(KubernetesClient client, CompletionStage<CounterStore> store, OperatorMetrics metrics, Set<String> namespaces,
            Clock clock, Duration storeWait) {
        this.client = client;
        this.store = store;
        this.metrics = metrics;
        this.namespaces = Set.copyOf(namespaces);
        this.clock = clock;
        this.storeWait = storeWait;
    }

    public synchronized void start(Duration interval) {
        if (timer != null) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spend-status");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                runOnce();
            } catch (RuntimeException e) {
                LOG.atWarn().setCause(e).log("the spend round failed; trying again at the next one");
            }
        }, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One round: read, compare, write what changed. */
    public Round runOnce() {
        Instant now = clock.instant();
        boolean shared = store != null;
        List<Target> targets = new ArrayList<>();
        for (VirtualKey vk : list(VirtualKey.class)) {
            Plan plan = plan(vk, shared, now);
            if (plan != null) {
                targets.add(new Target(vk, CounterKeys.VIRTUAL_KEY, plan));
            }
        }
        for (Budget budget : list(Budget.class)) {
            Plan plan = plan(budget, shared, now);
            if (plan != null) {
                targets.add(new Target(budget, CounterKeys.BUDGET, plan));
            }
        }
        List<Counter> counters = targets.stream().filter(t -> t.plan() instanceof Counted).flatMap(t -> ((Counted) t.plan()).counters().stream())
                .toList();
        Map<String, Long> used = counters.isEmpty() ? Map.of() : read(counters, now);
        boolean storeFailed = used == null;
        int writes = 0;
        int events = 0;
        Set<GaugeId> seen = new HashSet<>();
        for (Target target : targets) {
            if (target.plan() instanceof Counted counted) {
                if (storeFailed) {
                    seen.addAll(gauges.keySet().stream().filter(id -> id.matches(target)).toList());   // keep the last values
                    continue;
                }
                long spent = counted.spent(used);
                GaugeId id = GaugeId.of(target);
                seen.add(id);
                Amounts amounts = gauges.computeIfAbsent(id, this::register);
                amounts.spent.set(spent);
                amounts.limit.set(counted.limitMicros());
            }
            try {
                Outcome outcome = apply(target, storeFailed ? null : used, now);
                writes += outcome.writes();
                events += outcome.events();
            } catch (KubernetesClientException e) {
                LOG.atInfo().addKeyValue("namespace", target.namespace()).addKeyValue("resource", target.kind() + "/" + target.name())
                        .addKeyValue("code", e.getCode()).log("spend status not written; the next round tries again: " + e.getMessage());
            }
        }
        for (GaugeId id : new ArrayList<>(gauges.keySet())) {
            if (!seen.contains(id)) {
                unregister(id);
            }
        }
        LOG.atDebug().addKeyValue("resources", targets.size()).addKeyValue("counters", counters.size()).addKeyValue("writes", writes)
                .addKeyValue("events", events).addKeyValue("store_failed", storeFailed).log("spend round");
        return new Round(writes, events, storeFailed);
    }

    // ------------------------------------------------------------------ what each resource is

    /** What a resource's spend is: counted in a period, not countable (and why), or absent. */
    sealed interface Plan permits Counted, Uncounted, NoBudget {}

    /** A calendar-period budget read from the shared store. */
    record Counted(long limitMicros, BudgetAction action, List<Integer> alertAt, Periods.Period period, List<Counter> counters,
            RollingWindow rolling) implements Plan {
        /** What the store holds for this budget: its period's counter, or the sum of its rolling window's buckets. */
        long spent(Map<String, Long> used) {
            long sum = 0;
            for (Counter c : counters) {
                sum += used.getOrDefault(c.key(), 0L);
            }
            return sum;
        }

        /** How the period is named in messages. */
        String periodName() {
            return rolling == null ? "period " + period.suffix() : "the rolling " + durationText(rolling.window()) + " window";
        }
    }

    static String durationText(java.time.Duration d) {
        return d.toHours() % 24 == 0 ? d.toDays() + "d" : d.toHours() + "h";
    }

    /** A budget whose spend the operator cannot show: the condition says why, and no summary is shown. */
    record Uncounted(String reason, String message) implements Plan {}

    /** A VirtualKey without a budget: whatever this loop wrote before is removed. */
    record NoBudget() implements Plan {}

    record Target(CustomResource<?, SpendStatus> resource, String kind, Plan plan) {
        String namespace() {
            return resource.getMetadata().getNamespace();
        }

        String name() {
            return resource.getMetadata().getName();
        }
    }

    static final String EMBEDDED_MESSAGE = "Spend is kept by each gateway in embedded mode (no shared counter store), so the operator has "
            + "none to show; configure --redis-url (Helm: redis.url or redis.enabled) to see it here.";

    /** A VirtualKey's plan; null when its budget does not parse (its Accepted condition says why). */
    static Plan plan(VirtualKey vk, boolean shared, Instant now) {
        VirtualKeySpec.Budget budget = vk.getSpec() == null ? null : vk.getSpec().budget;
        if (budget == null) {
            return new NoBudget();
        }
        String period = budget.period == null && budget.duration == null ? ResourceValidator.DEFAULT_BUDGET_PERIOD : budget.period;
        return plan(vk, CounterKeys.VIRTUAL_KEY, budget.limitUsd, period, budget.duration, budget.timeZone, BudgetAction.BLOCK.id(),
                List.of(), shared, now);
    }

    /** A Budget's plan; null when its spec does not parse (its Accepted condition says why). */
    static Plan plan(Budget budget, boolean shared, Instant now) {
        BudgetSpec spec = budget.getSpec();
        if (spec == null) {
            return null;
        }
        return plan(budget, CounterKeys.BUDGET, spec.limitUsd, spec.period, spec.duration, spec.timeZone,
                spec.action == null ? ResourceValidator.DEFAULT_BUDGET_ACTION : spec.action,
                spec.alertAtPercent == null ? List.of() : spec.alertAtPercent, shared, now);
    }

    private static Plan plan(CustomResource<?, ?> resource, String kind, String limitUsd, String periodId, String duration, String timeZone,
            String actionId, List<Integer> alertAt, boolean shared, Instant now) {
        if (!shared) {
            return new Uncounted(NO_SHARED_STORE, EMBEDDED_MESSAGE);
        }
        try {
            long limit = Money.toMicros(limitUsd);
            List<Integer> alerts = alertAt.stream().filter(Objects::nonNull).sorted().distinct().toList();
            if (duration != null && periodId == null) {
                RollingWindow window = RollingWindow.of(ai.finops.crds.validation.Durations.parseRolling(duration));
                String ns = resource.getMetadata().getNamespace();
                String name = resource.getMetadata().getName();
                List<Counter> buckets = new ArrayList<>();
                for (String suffix : window.earlier(now)) {
                    buckets.add(CounterKeys.rolling(ns, kind, name, 1, window, suffix));
                }
                String current = window.current(now);
                buckets.add(CounterKeys.rolling(ns, kind, name, 1, window, current));
                Instant start = Instant.ofEpochSecond(now.getEpochSecond() / window.bucket().toSeconds() * window.bucket().toSeconds())
                        .minus(window.bucket().multipliedBy(window.buckets() - 1L));
                BudgetAction action = BudgetAction.fromId(actionId).orElseThrow(() -> new IllegalArgumentException("action " + actionId));
                return new Counted(limit, action, alerts, new Periods.Period(start, null, current), buckets, window);
            }
            BudgetPeriod period = BudgetPeriod.fromId(periodId).orElseThrow(() -> new IllegalArgumentException("period " + periodId));
            ZoneId zone = timeZone == null ? TimeZones.DEFAULT : TimeZones.parse(timeZone);
            BudgetAction action = BudgetAction.fromId(actionId).orElseThrow(() -> new IllegalArgumentException("action " + actionId));
            Counter counter = CounterKeys.spend(resource.getMetadata().getNamespace(), kind, resource.getMetadata().getName(),
                    Math.min(limit, MAX_COUNTER_LIMIT), period, zone, now);
            return new Counted(limit, action, alerts, Periods.of(period, zone).current(now), List.of(counter), null);
        } catch (RuntimeException e) {
            LOG.atDebug().addKeyValue("resource", kind + "/" + resource.getMetadata().getName()).log("budget not counted: " + e.getMessage());
            return null;
        }
    }

    // ------------------------------------------------------------------ reading

    private <R extends CustomResource<?, SpendStatus>> List<R> list(Class<R> type) {
        if (namespaces.isEmpty()) {
            return client.resources(type).inAnyNamespace().list().getItems();
        }
        List<R> all = new ArrayList<>();
        for (String ns : new TreeSet<>(namespaces)) {
            all.addAll(client.resources(type).inNamespace(ns).list().getItems());
        }
        return all;
    }

    /** What every counter holds now, or null when the store did not answer. */
    private Map<String, Long> read(List<Counter> counters, Instant now) {
        try {
            CounterStore ready = store.toCompletableFuture().get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Long> used = ready.used(counters, now).toCompletableFuture().get(storeWait.toMillis(), TimeUnit.MILLISECONDS);
            if (storeFailing) {
                storeFailing = false;
                LOG.atInfo().addKeyValue("counters", counters.size()).log("the shared counter store answers again");
            }
            return used;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            metrics.spendStoreError();
            Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
            var log = storeFailing ? LOG.atDebug() : LOG.atWarn();
            storeFailing = true;
            log.addKeyValue("counters", counters.size()).log("cannot read spend from the shared counter store; statuses keep their last "
                    + "summary until it answers: " + (cause instanceof java.util.concurrent.TimeoutException ? "no answer within " + storeWait
                    : cause.getClass().getSimpleName() + ": " + cause.getMessage()));
            return null;
        }
    }

    // ------------------------------------------------------------------ writing

    private record Outcome(int writes, int events) {}

    private Outcome apply(Target target, Map<String, Long> used, Instant now) {
        CustomResource<?, SpendStatus> resource = target.resource();
        SpendStatus status = resource.getStatus();
        if (status == null || status.conditions == null || status.conditions.isEmpty()) {
            return new Outcome(0, 0);   // the bundle reconciler writes the first status; ours follows in the next round
        }
        List<Condition> conditions = status.conditions;
        int at = IntStream.range(0, conditions.size()).filter(i -> SpendStatus.BUDGET_EXCEEDED.equals(conditions.get(i).getType()))
                .findFirst().orElse(-1);
        Condition current = at < 0 ? null : conditions.get(at);
        Long generation = resource.getMetadata().getGeneration();
        Spend spend = null;
        Condition condition = null;
        boolean changed;
        int events = 0;
        Plan plan = target.plan();
        if (plan instanceof NoBudget) {
            changed = status.spend != null || current != null;
        } else if (plan instanceof Uncounted u) {
            condition = condition(SpendStatus.BUDGET_EXCEEDED, "Unknown", u.reason(), u.message(), generation, current, now);
            changed = status.spend != null || current == null || !sameCondition(current, condition, true);
        } else {
            Counted c = (Counted) plan;
            long spent = c.spent(used);
            Spend previous = status.spend;
            String periodStart = instant(c.period().start());
            // a rolling window has no period: a threshold is announced again once spend fell back below it
            boolean samePeriod = previous != null && (c.rolling() != null ? previous.periodEnd == null
                    : Objects.equals(previous.periodStart, periodStart));
            List<Integer> alerted = new ArrayList<>(samePeriod && previous.alertedPercent != null ? previous.alertedPercent : List.of());
            if (c.rolling() != null) {
                alerted.removeIf(threshold -> !reached(spent, c.limitMicros(), threshold));
            }
            for (int threshold : c.alertAt()) {
                if (!alerted.contains(threshold) && reached(spent, c.limitMicros(), threshold)) {
                    Announced announced = announce(target, c, spent, threshold, now);
                    if (announced != Announced.FAILED) {
                        alerted.add(threshold);
                    }
                    if (announced == Announced.CREATED) {
                        events++;
                    }
                }
            }
            alerted = alerted.stream().sorted().distinct().toList();
            spend = new Spend();
            spend.spentUsd = cents(spent);
            spend.limitUsd = usd(c.limitMicros());
            spend.percent = percent(spent, c.limitMicros());
            spend.periodStart = periodStart;
            spend.periodEnd = instant(c.period().end());
            spend.updatedAt = instant(now);
            spend.alertedPercent = alerted.isEmpty() ? null : alerted;
            boolean exceeded = spent >= c.limitMicros();
            condition = condition(SpendStatus.BUDGET_EXCEEDED, exceeded ? "True" : "False", exceeded ? LIMIT_REACHED : UNDER_LIMIT,
                    message(c, spent, exceeded), generation, current, now);
            changed = spendChanged(previous, spend, spent) || current == null || !sameCondition(current, condition, false);
        }
        if (!changed) {
            return new Outcome(0, events);
        }
        patch(target, statusPatch(status, at, spend, condition));
        metrics.write("status", "spend/" + target.kind());
        LOG.atDebug().addKeyValue("namespace", target.namespace()).addKeyValue("resource", target.kind() + "/" + target.name())
                .addKeyValue("spent_usd", spend == null ? "none" : spend.spentUsd)
                .addKeyValue("budget_exceeded", condition == null ? "none" : condition.getStatus()).log("spend status written");
        return new Outcome(1, events);
    }

    /**
     * The JSON Patch of this loop's fields: {@code /status/spend} set or removed, and {@value
     * SpendStatus#BUDGET_EXCEEDED} replaced where it was read (after a {@code test} of its type),
     * appended, or removed. The bundle reconciler's conditions are never part of it.
     */
    public static String statusPatch(SpendStatus read, int at, Spend spend, Condition condition) {
        List<String> ops = new ArrayList<>();
        if (spend != null) {
            ops.add("{\"op\":\"add\",\"path\":\"/status/spend\",\"value\":" + Serialization.asJson(spend) + "}");
        } else if (read.spend != null) {
            ops.add("{\"op\":\"remove\",\"path\":\"/status/spend\"}");
        }
        String path = "/status/conditions/" + at;
        String test = "{\"op\":\"test\",\"path\":\"" + path + "/type\",\"value\":\"" + SpendStatus.BUDGET_EXCEEDED + "\"}";
        if (condition != null && at >= 0) {
            ops.add(test);
            ops.add("{\"op\":\"replace\",\"path\":\"" + path + "\",\"value\":" + Serialization.asJson(condition) + "}");
        } else if (condition != null) {
            ops.add("{\"op\":\"add\",\"path\":\"/status/conditions/-\",\"value\":" + Serialization.asJson(condition) + "}");
        } else if (at >= 0) {
            ops.add(test);
            ops.add("{\"op\":\"remove\",\"path\":\"" + path + "\"}");
        }
        return "[" + String.join(",", ops) + "]";
    }

    @SuppressWarnings("unchecked")
    private void patch(Target target, String json) {
        client.resources((Class<CustomResource<?, SpendStatus>>) target.resource().getClass()).inNamespace(target.namespace())
                .withName(target.name()).subresource("status").patch(PatchContext.of(PatchType.JSON), json);
    }

    /** Whether the summary moved enough to be written: a cent of spend, the period, the limit or the thresholds announced. */
    static boolean spendChanged(Spend previous, Spend fresh, long spentMicros) {
        if (previous == null || !Objects.equals(previous.limitUsd, fresh.limitUsd) || !Objects.equals(previous.periodStart, fresh.periodStart)
                || !Objects.equals(previous.periodEnd, fresh.periodEnd) || !Objects.equals(previous.alertedPercent, fresh.alertedPercent)) {
            return true;
        }
        try {
            return Math.abs(spentMicros - Money.toMicros(previous.spentUsd)) >= CENT;
        } catch (RuntimeException e) {
            return true;   // not ours to read: rewrite it
        }
    }

    /** Same status and reason (and observed generation); the message too when it holds no amounts. */
    private static boolean sameCondition(Condition current, Condition desired, boolean compareMessage) {
        return Objects.equals(current.getStatus(), desired.getStatus()) && Objects.equals(current.getReason(), desired.getReason())
                && Objects.equals(current.getObservedGeneration(), desired.getObservedGeneration())
                && (!compareMessage || Objects.equals(current.getMessage(), desired.getMessage()));
    }

    private static Condition condition(String type, String status, String reason, String message, Long generation, Condition current,
            Instant now) {
        String since = current != null && status.equals(current.getStatus()) && current.getLastTransitionTime() != null
                ? current.getLastTransitionTime() : instant(now);
        return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
                .withObservedGeneration(generation).withLastTransitionTime(since).build();
    }

    private static String message(Counted c, long spent, boolean exceeded) {
        String resets = c.period().end() == null ? null : instant(c.period().end());
        String amounts = "Spent $" + cents(spent) + " of the $" + usd(c.limitMicros()) + " limit in " + c.periodName();
        if (c.rolling() != null) {
            String rolls = "; room comes back as spend older than the window leaves it.";
            return amounts + (!exceeded ? " (" + percent(spent, c.limitMicros()) + "%)" + rolls
                    : c.action() == BudgetAction.WARN ? "; action Warn: requests are not refused" + rolls : "; requests are refused" + rolls);
        }
        if (!exceeded) {
            return amounts + " (" + percent(spent, c.limitMicros()) + "%)" + (resets == null ? "; period Total never resets." : "; it resets at " + resets + ".");
        }
        if (c.action() == BudgetAction.WARN) {
            return amounts + "; action Warn: requests are not refused" + (resets == null ? " (period Total never resets)." : "; it resets at " + resets + ".");
        }
        return amounts + "; requests are refused " + (resets == null ? "until the limit is raised (period Total never resets)." : "until it resets at " + resets + ".");
    }

    // ------------------------------------------------------------------ threshold Events

    /** What became of a threshold's Event: created now, found from an earlier round, or not recorded (tried again next round). */
    private enum Announced { CREATED, EXISTED, FAILED }

    /** Records the Event for {@code threshold}. */
    private Announced announce(Target target, Counted c, long spent, int threshold, Instant now) {
        String ns = target.namespace();
        String at = instant(now);
        String resets = c.rolling() != null ? "the window rolls" : c.period().end() == null ? "period Total never resets"
                : "the period resets at " + instant(c.period().end());
        String consequence = threshold < 100 ? "" : c.action() == BudgetAction.WARN ? " Action Warn: requests are not refused."
                : " Requests in its scope are refused until then.";
        try {
            client.v1().events().inNamespace(ns).resource(new EventBuilder()
                    .withNewMetadata().withName(eventName(target.name(), c.period().suffix(), threshold)).withNamespace(ns).endMetadata()
                    .withNewInvolvedObject().withApiVersion(API_VERSION).withKind(target.resource().getKind()).withName(target.name())
                            .withNamespace(ns).withUid(target.resource().getMetadata().getUid()).endInvolvedObject()
                    .withType(threshold >= 100 ? "Warning" : "Normal").withReason(THRESHOLD_REASON)
                    .withMessage(target.resource().getKind() + " " + target.name() + " crossed " + threshold + "% of its limit: $" + cents(spent)
                            + " of $" + usd(c.limitMicros()) + " spent in " + c.periodName() + "; " + resets + "." + consequence)
                    .withNewSource().withComponent("finops-operator").endSource()
                    .withFirstTimestamp(at).withLastTimestamp(at).withCount(1)
                    .build()).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                LOG.atWarn().addKeyValue("namespace", ns).addKeyValue("resource", target.kind() + "/" + target.name())
                        .addKeyValue("threshold", threshold).log("cannot record the threshold Event; the next round tries again: " + e.getMessage());
                return Announced.FAILED;
            }
            return Announced.EXISTED;   // recorded by an earlier round whose status write did not happen
        }
        metrics.write("event", THRESHOLD_REASON);
        LOG.atInfo().addKeyValue("namespace", ns).addKeyValue("resource", target.kind() + "/" + target.name()).addKeyValue("threshold", threshold)
                .addKeyValue("spent_usd", cents(spent)).log("budget threshold crossed");
        return Announced.CREATED;
    }

    /** {@code <budget>.budget-<period>-<threshold>}: one name per threshold and period, so a repeat is refused (409). */
    static String eventName(String name, String periodSuffix, int threshold) {
        String tail = ".budget-" + periodSuffix.toLowerCase(Locale.ROOT) + "-" + threshold;
        return (name.length() + tail.length() > 253 ? name.substring(0, 253 - tail.length()) : name) + tail;
    }

    // ------------------------------------------------------------------ amounts

    /** Whether {@code spent} is at least {@code percent} % of {@code limit}. */
    static boolean reached(long spent, long limit, int percent) {
        return BigDecimal.valueOf(spent).multiply(BigDecimal.valueOf(100)).compareTo(BigDecimal.valueOf(limit).multiply(BigDecimal.valueOf(percent))) >= 0;
    }

    /** Spent as a whole percentage of the limit, rounded down; 100 for a limit of zero. */
    static int percent(long spent, long limit) {
        if (limit <= 0) {
            return 100;
        }
        return BigDecimal.valueOf(spent).multiply(BigDecimal.valueOf(100)).divide(BigDecimal.valueOf(limit), 0, RoundingMode.DOWN)
                .min(BigDecimal.valueOf(Integer.MAX_VALUE)).intValue();
    }

    /** Micro-dollars as dollars rounded down to the cent: {@code 12_345_678} is {@code "12.34"}. */
    static String cents(long micros) {
        return BigDecimal.valueOf(micros, Money.MAX_FRACTION_DIGITS).setScale(2, RoundingMode.DOWN).toPlainString();
    }

    /** Micro-dollars exactly, with at least two decimals: {@code 2_000_000_000} is {@code "2000.00"}. */
    static String usd(long micros) {
        BigDecimal usd = BigDecimal.valueOf(micros, Money.MAX_FRACTION_DIGITS).stripTrailingZeros();
        return usd.setScale(Math.max(2, usd.scale())).toPlainString();
    }

    private static String instant(Instant t) {
        return t == null ? null : DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    // ------------------------------------------------------------------ gauges

    private record GaugeId(String namespace, String kind, String name) {
        static GaugeId of(Target t) {
            return new GaugeId(t.namespace(), t.kind(), t.name());
        }

        boolean matches(Target t) {
            return equals(of(t));
        }
    }

    private record Amounts(AtomicLong spent, AtomicLong limit, List<Meter> meters) {}

    private Amounts register(GaugeId id) {
        AtomicLong spent = new AtomicLong();
        AtomicLong limit = new AtomicLong();
        List<Meter> meters = List.of(
                Gauge.builder(OperatorMetrics.BUDGET_SPEND, spent, v -> v.get() / 1e6)
                        .description("US dollars spent in the current period, as the shared counter store holds them")
                        .tag(OperatorMetrics.TAG_NAMESPACE, id.namespace()).tag(OperatorMetrics.TAG_KIND, id.kind()).tag(OperatorMetrics.TAG_NAME, id.name())
                        .register(metrics.registry()),
                Gauge.builder(OperatorMetrics.BUDGET_LIMIT, limit, v -> v.get() / 1e6).description("The limit of the budget, US dollars")
                        .tag(OperatorMetrics.TAG_NAMESPACE, id.namespace()).tag(OperatorMetrics.TAG_KIND, id.kind()).tag(OperatorMetrics.TAG_NAME, id.name())
                        .register(metrics.registry()));
        return new Amounts(spent, limit, meters);
    }

    private void unregister(GaugeId id) {
        Amounts amounts = gauges.remove(id);
        if (amounts != null) {
            amounts.meters().forEach(metrics.registry()::remove);
        }
    }

    /** Stops the rounds; the gauges go too (a standby has no spend to show). */
    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            try {
                timer.awaitTermination(5, TimeUnit.SECONDS);   // a round under way ends before its gauges go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            timer = null;
        }
        new ArrayList<>(gauges.keySet()).forEach(this::unregister);
    }
}
