package ai.finops.gateway.observability;

/** Meter names and tag keys, in one place. Tags are bounded: values come from configuration, never from clients. */
public final class Metrics {
    public static final String REQUESTS = "finops.gateway.requests";
    public static final String REQUEST_DURATION = "finops.gateway.request.duration";
    public static final String TIME_TO_FIRST_BYTE = "finops.gateway.time.to.first.byte";
    public static final String UPSTREAM_ERRORS = "finops.gateway.upstream.errors";
    public static final String CONFIG_RELOADS = "finops.gateway.config.reloads";
    public static final String CONFIG_GENERATION = "finops.gateway.config.generation";
    public static final String CONFIG_LAST_RELOAD_SUCCESS = "finops.gateway.config.last.reload.success";
    public static final String COST = "finops.gateway.cost.usd";
    public static final String CONNECTIONS_OPEN = "finops.gateway.connections.open";
    public static final String CONNECTIONS_REFUSED = "finops.gateway.connections.refused";
    public static final String ADMISSION_REFUSALS = "finops.gateway.admission.refusals";
    public static final String GOVERNANCE_STORE_AVAILABLE = "finops.gateway.governance.store.available";
    public static final String GOVERNANCE_STORE_FAILURES = "finops.gateway.governance.store.failures";
    public static final String GOVERNANCE_SETTLES_PENDING = "finops.gateway.governance.settles.pending";
    /** Reservations, by where they were decided ({@link #TAG_DECIDED}: {@code slice} or {@code redis}). */
    public static final String GOVERNANCE_RESERVATIONS = "finops.gateway.governance.reservations";
    public static final String GOVERNANCE_LEASE_CALLS = "finops.gateway.governance.lease.calls";
    public static final String TAG_DECIDED = "decided";
    public static final String TAG_REASON = "reason";
    public static final String RELAY_REQUESTS = "finops.gateway.relay.requests";
    public static final String RELAY_DURATION = "finops.gateway.relay.duration";
    /** The {@code deployment} of a via-gateway sidecar's upstream errors: the shared gateway. */
    public static final String RELAY_TARGET = "shared-gateway";
    /** The outcome of a request still in flight when the shutdown grace period ended. */
    public static final String OUTCOME_SHUTDOWN = "cut_by_shutdown";
    /** A request the admit step refused (a rate limit or a budget), or could not decide on. */
    public static final String OUTCOME_ADMISSION = "rejected_admission";
    public static final String TOKENS = "finops.gateway.tokens";
    public static final String FALLBACKS = "finops.gateway.fallbacks";
    public static final String DEPLOYMENTS_COOLING_DOWN = "finops.gateway.deployments.cooling.down";

    public static final String TAG_API = "api";
    public static final String TAG_ROUTE = "route";
    public static final String TAG_PROVIDER = "provider";
    public static final String TAG_DEPLOYMENT = "deployment";
    public static final String TAG_MODEL = "model";
    public static final String TAG_VIRTUAL_KEY = "virtual_key";
    public static final String TAG_TEAM = "team";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_STATUS = "status";
    public static final String TAG_KIND = "kind";
    public static final String TAG_TOKEN_TYPE = "token_type";

    public static final String NONE = "none";

    private Metrics() {}
}
