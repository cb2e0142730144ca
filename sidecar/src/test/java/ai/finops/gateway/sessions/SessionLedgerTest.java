package ai.finops.gateway.sessions;

import static org.assertj.core.api.Assertions.assertThat;

import ai.finops.gateway.observability.ExchangeListener;
import ai.finops.gateway.observability.GatewayMetrics;
import ai.finops.gateway.translate.Usage;
import ai.finops.testkit.MovingClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionLedgerTest {
    final MovingClock clock = new MovingClock(Instant.parse("2026-12-07T10:00:00Z"));
    final SessionLedger ledger = new SessionLedger(Duration.ofHours(24), 2, clock);

    void request(String key, String session, String cost) {
        Usage usage = new Usage();
        usage.seen = true;
        usage.inputTokens = 1;
        GatewayMetrics.RequestRecord r = new GatewayMetrics.RequestRecord("anthropic", "direct", "anthropic", "d", "claude-haiku-4-5",
                "claude-haiku-4-5", key, "ok", 200, 1, 1, usage, cost == null ? null : new BigDecimal(cost), true);
        ledger.record(new ExchangeListener.RequestEnd(r, "r", null, "m", "/v1/messages", 1, List.of(), null, null, session, null, null));
    }

    JsonNode sessions(String query) throws Exception {
        return new ObjectMapper().readTree(ledger.answer("/sessions" + query).body()).get("sessions");
    }

    List<String> ids(String query) throws Exception {
        return sessions(query).findValuesAsText("sessionId");
    }

    @Test
    void theLeastRecentlySeenSessionGoesFirstWhenTheCountIsReached() throws Exception {
        request("alice", "a", "0.1");
        clock.set(clock.instant().plusSeconds(1));
        request("alice", "b", "0.1");
        clock.set(clock.instant().plusSeconds(1));
        request("alice", "a", "0.2");        // a is now the most recent
        clock.set(clock.instant().plusSeconds(1));
        request("bob", "c", null);
        assertThat(ids("")).containsExactly("c", "a");
        assertThat(sessions("?virtualKey=alice").get(0).get("costUsd").asText()).isEqualTo("0.300000");
        assertThat(sessions("?virtualKey=bob").get(0).get("costUsd").asText()).isEqualTo("0.000000");
    }

    @Test
    void sessionsLeaveTheWindowAndSinceNarrowsIt() throws Exception {
        request("alice", "old", "0.1");
        clock.set(clock.instant().plus(Duration.ofHours(2)));
        request("alice", "new", "0.1");
        assertThat(ids("?since=1h")).containsExactly("new");
        assertThat(ids("?since=2026-12-07T09:00:00Z")).containsExactly("new", "old");
        clock.set(clock.instant().plus(Duration.ofHours(23)));
        assertThat(ids("")).containsExactly("new");
    }

    @Test
    void aRequestWithoutSessionOrKeyIsNotKept() throws Exception {
        request("alice", null, "0.1");
        request(null, "s", "0.1");
        assertThat(ids("")).isEmpty();
        assertThat(ledger.answer("/sessions?key=alice").status()).isEqualTo(400);
    }
}
