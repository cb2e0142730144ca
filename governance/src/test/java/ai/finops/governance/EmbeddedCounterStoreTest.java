package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ai.finops.governance.CounterStore.Counter;
import ai.finops.governance.CounterStore.Granted;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract in memory, and what the data directory keeps across a restart. */
class EmbeddedCounterStoreTest extends CounterStoreContract {

    @TempDir
    Path dir;

    @Override
    protected CounterStore newStore(Duration settledMemory) {
        return new EmbeddedCounterStore(null, settledMemory);
    }

    @Test
    void isEmbedded() {
        assertThat(store.mode()).isEqualTo("embedded");
    }

    @Test
    void settledSpendSurvivesACleanRestartAndReservationsDoNot() {
        Counter budget = spend("budget", 1_000);
        try (EmbeddedCounterStore first = new EmbeddedCounterStore(dir)) {
            store = first;
            reserve("a", T0, charge(budget, 500));
            settle("a", T0, charge(budget, 120));
            reserve("b", T0, charge(budget, 300));
        }
        try (EmbeddedCounterStore second = new EmbeddedCounterStore(dir)) {
            store = second;
            assertThat(used(budget, T0)).isEqualTo(120);
            assertThat(reserve("c", T0, charge(budget, 880))).isInstanceOf(Granted.class);
        }
        store = newStore();
    }

    @Test
    void settledSpendReachesTheFileWithinAboutASecondWithoutAClose() throws Exception {
        Counter budget = spend("budget", 1_000);
        EmbeddedCounterStore running = new EmbeddedCounterStore(dir);
        try {
            store = running;
            settle("a", T0, charge(budget, 77));
            Path file = dir.resolve(EmbeddedCounterStore.FILE_NAME);
            await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file)
                    && Files.readString(file, StandardCharsets.UTF_8).contains(budget.key()));
            // what a gateway that crashed now would read back
            try (EmbeddedCounterStore reader = new EmbeddedCounterStore(dir)) {
                assertThat(join(reader.used(List.of(budget), T0)).get(budget.key())).isEqualTo(77);
            }
            try (var files = Files.list(dir)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly(EmbeddedCounterStore.FILE_NAME);
            }
        } finally {
            running.close();
            store = newStore();
        }
    }

    @Test
    void aCounterPastItsExpiryComesBackAsZero() {
        Counter budget = new Counter(key("budget"), Counter.Kind.SPEND, 1_000, Duration.ofDays(1));
        try (EmbeddedCounterStore first = new EmbeddedCounterStore(dir)) {
            store = first;
            settle("a", T0, charge(budget, 500));
        }
        try (EmbeddedCounterStore second = new EmbeddedCounterStore(dir)) {
            store = second;
            assertThat(used(budget, T0.plus(Duration.ofDays(1)).minusSeconds(1))).isEqualTo(500);
            assertThat(used(budget, T0.plus(Duration.ofDays(1)))).isZero();
        }
        store = newStore();
    }

    @Test
    void aSpendCounterWithoutAWindowSurvivesARestartWithoutAnExpiry() throws Exception {
        Counter total = new Counter(key("total"), Counter.Kind.SPEND, 1_000, null);
        try (EmbeddedCounterStore first = new EmbeddedCounterStore(dir)) {
            store = first;
            settle("a", T0, charge(total, 30));
        }
        assertThat(Files.readString(dir.resolve(EmbeddedCounterStore.FILE_NAME))).doesNotContain("expiresAt");
        try (EmbeddedCounterStore second = new EmbeddedCounterStore(dir)) {
            store = second;
            assertThat(used(total, T0.plus(Duration.ofDays(3_650)))).isEqualTo(30);
        }
        store = newStore();
    }

    @Test
    void anUnreadableFileStopsTheStoreFromStartingRatherThanForgettingSpend() throws Exception {
        Files.writeString(dir.resolve(EmbeddedCounterStore.FILE_NAME), "{\"format\":1,\"counters\":[{\"settled\":5}]}");
        assertThatThrownBy(() -> new EmbeddedCounterStore(dir)).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(EmbeddedCounterStore.FILE_NAME);
        Files.writeString(dir.resolve(EmbeddedCounterStore.FILE_NAME), "not json");
        assertThatThrownBy(() -> new EmbeddedCounterStore(dir)).isInstanceOf(UncheckedIOException.class);
    }

    @Test
    void idsTakeNoMemoryOnceForgotten() {
        EmbeddedCounterStore embedded = (EmbeddedCounterStore) store;
        Counter budget = spend("budget", 1_000_000);
        for (int i = 0; i < 100; i++) {
            reserve("r" + i, T0, charge(budget, 1));
            if (i % 2 == 0) {
                settle("r" + i, T0, charge(budget, 1));
            }
        }
        settle("unknown", T0, charge(budget, 1));
        assertThat(embedded.rememberedIds()).isEqualTo(101);
        // TTL and the settled memory are both ten minutes
        used(budget, T0.plus(TTL));
        assertThat(embedded.rememberedIds()).as("the settled are forgotten; the expired are kept from their expiry").isEqualTo(50);
        used(budget, T0.plus(TTL).plus(MEMORY));
        assertThat(embedded.rememberedIds()).isZero();
    }

    @Test
    void aSettledMemoryBelowAMicrosecondIsRefused() {
        assertThatThrownBy(() -> new EmbeddedCounterStore(null, Duration.ofNanos(999))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new EmbeddedCounterStore(null, null)).isInstanceOf(IllegalArgumentException.class);
    }
}
