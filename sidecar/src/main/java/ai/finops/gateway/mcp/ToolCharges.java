package ai.finops.gateway.mcp;

import ai.finops.gateway.auth.CompiledBudget;
import ai.finops.gateway.auth.KeyEntry;
import ai.finops.gateway.governance.Admission;
import ai.finops.gateway.usage.UsageLedger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * What a tool call costs its key, on the path model requests take: admitted first ({@link Admission#admitCall}:
 * one request of the key's {@code requestsPerMinute}, and the server's {@code pricing.perCallUsd} reserved in every
 * budget that covers the key and the tool's name), then settled once: the price charged when the server answered
 * with a result that is no tool error ({@code isError}), given back otherwise (an upstream error, a timeout, a client
 * that left). Every call that reached its server is a row of the usage ledger ({@link UsageLedger#toolCall}). A call
 * refused is never forwarded: its answer is the JSON-RPC error {@value JsonRpc#SERVER_ERROR} with the API's message,
 * and the refusal's {@code type} and HTTP {@code status} in {@code data}.
 */
final class ToolCharges {
    private final Admission admission;
    private final UsageLedger usage;
    private final McpMetrics metrics;

    /** @param usage the usage ledger, or null when the gateway keeps none */
    ToolCharges(Admission admission, UsageLedger usage, McpMetrics metrics) {
        this.admission = admission;
        this.usage = usage;
        this.metrics = metrics;
    }

    /** {@code call} of {@code target} once admitted for {@code key}, charged as it ends; or the JSON-RPC error of its refusal. */
    Mono<JsonNode> charged(KeyEntry key, List<CompiledBudget> budgets, ToolCatalog.Target target, Supplier<Mono<JsonNode>> call) {
        McpUpstream server = target.server();
        Admission.Call admit = new Admission.Call(key, budgets, target.name(), server.priceMicros());
        return Mono.fromCompletionStage(() -> admission.admitCall(admit)).flatMap(verdict -> {
            if (verdict instanceof Admission.Refused refused) {
                metrics.toolCall(server.name(), McpMetrics.NONE, key.name(),
                        "budget".equals(refused.reason()) ? McpMetrics.Outcome.OVER_BUDGET : McpMetrics.Outcome.RATE_LIMITED, Duration.ZERO);
                return Mono.error(refusal(refused));
            }
            Settle settle = new Settle(key, target, ((Admission.AdmittedCall) verdict).settlement());
            return Mono.defer(call)
                    .doOnNext(result -> settle.ended(!result.path("isError").asBoolean(false)))
                    .doOnError(e -> settle.ended(false))
                    .doOnCancel(() -> settle.ended(false));
        });
    }

    private static RpcError refusal(Admission.Refused refused) {
        ObjectNode data = JsonRpc.MAPPER.createObjectNode().put("type", refused.type()).put("status", refused.status());
        if (refused.retryAfter() != null) {
            data.put("retryAfterSeconds", refused.retryAfter().toSeconds());
        }
        return new RpcError(JsonRpc.SERVER_ERROR, refused.message(), data);
    }

    /** One forwarded call's end, told once: its reservation settled and its ledger row written. */
    private final class Settle {
        private final KeyEntry key;
        private final ToolCatalog.Target target;
        private final Admission.CallSettlement settlement;
        private final AtomicBoolean ended = new AtomicBoolean();

        Settle(KeyEntry key, ToolCatalog.Target target, Admission.CallSettlement settlement) {
            this.key = key;
            this.target = target;
            this.settlement = settlement;
        }

        void ended(boolean charged) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            settlement.settle(charged);
            if (usage != null) {
                McpUpstream server = target.server();
                usage.toolCall(key.name(), key.team(), server.name(), server.url().getHost(), target.name(), server.priceMicros(),
                        charged ? server.priceMicros() : 0);
            }
        }
    }
}
