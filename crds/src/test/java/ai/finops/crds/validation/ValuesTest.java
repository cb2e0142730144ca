package ai.finops.crds.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Durations, Money, Quantities and Globs. */
class ValuesTest {
    @Test
    void durations() {
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
        assertThat(Durations.parse("1h2m3s4ms5us6ns")).isEqualTo(Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4).plusNanos(5006));
        assertThat(Durations.parse("0s")).isZero();
        assertThat(Durations.parse("0")).isZero();
        assertThat(Durations.parse(".5s")).isEqualTo(Duration.ofMillis(500));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "-5s", "+5s", "5 s", "5sec", "s", "1.2.3s", "5s ", "1d", "abc", "9999999999h"})
    void badDurations(String value) {
        assertThatThrownBy(() -> Durations.parse(value)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Durations.isValid(value)).isFalse();
    }

    @Test
    void durationMessages() {
        assertThatThrownBy(() -> Durations.parse("-5s")).hasMessageContaining("negative");
        assertThatThrownBy(() -> Durations.parse("5")).hasMessageContaining("missing unit");
        assertThatThrownBy(() -> Durations.parse("5d")).hasMessageContaining("unknown unit 'd'");
    }

    @Test
    void rollingWindows() {
        assertThat(Durations.parseRolling("7d")).isEqualTo(Duration.ofDays(7));
        assertThat(Durations.parseRolling("12h")).isEqualTo(Duration.ofHours(12));
        assertThat(Durations.parseRolling("1h")).isEqualTo(Durations.MIN_ROLLING);
        assertThat(Durations.parseRolling("366d")).isEqualTo(Durations.MAX_ROLLING);
        assertThat(Durations.parseRolling("8784h")).isEqualTo(Durations.MAX_ROLLING);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "7", "d", "7D", "-7d", "+7d", "1.5d", "1d12h", "90m", "7 d", "0d", "367d", "8785h", "1w", "99999999999d"})
    void badRollingWindows(String value) {
        assertThatThrownBy(() -> Durations.parseRolling(value)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void timeZones() {
        assertThat(TimeZones.parse("Europe/Paris")).isEqualTo(java.time.ZoneId.of("Europe/Paris"));
        assertThat(TimeZones.parse("UTC")).isEqualTo(java.time.ZoneId.of("UTC"));
        assertThat(TimeZones.parse("America/Argentina/Buenos_Aires").getId()).isEqualTo("America/Argentina/Buenos_Aires");
        assertThat(TimeZones.DEFAULT).isEqualTo(java.time.ZoneOffset.UTC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "europe/paris", "Europe/Pariss", "+02:00", "Z", "UTC+2", "GMT-5", "Paris", "Europe/Paris "})
    void badTimeZones(String value) {
        assertThatThrownBy(() -> TimeZones.parse(value)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void moneyAsMicroDollars() {
        assertThat(Money.toMicros("2000.00")).isEqualTo(2_000_000_000L);
        assertThat(Money.toMicros("50")).isEqualTo(50_000_000L);
        assertThat(Money.toMicros("0.000001")).isEqualTo(1L);
        assertThat(Money.toMicros("0.25")).isEqualTo(250_000L);
        assertThat(Money.toMicros("0")).isZero();
        assertThat(Money.toMicros("9223372036854.775807")).isEqualTo(Long.MAX_VALUE);
        assertThatThrownBy(() -> Money.toMicros("9223372036854.775808")).hasMessageContaining("too large");
        assertThatThrownBy(() -> Money.toMicros("fifty")).hasMessageContaining("not a plain decimal number");
    }

    @Test
    void money() {
        assertThat(Money.parseUsd("50.00")).isEqualByComparingTo("50");
        assertThat(Money.parseUsd("0.25")).isEqualTo(new BigDecimal("0.25"));
        assertThat(Money.parseUsd("0")).isEqualByComparingTo("0");
        assertThat(Money.parseUsd("0.000001")).isEqualByComparingTo("0.000001");
        assertThat(Money.isValid("15")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "+1", "1e3", "$5", "1,000.00", " 5", "5 ", ".5", "5.", "0.0000001", "abc", "NaN"})
    void badMoney(String value) {
        assertThatThrownBy(() -> Money.parseUsd(value)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void moneyMessages() {
        assertThatThrownBy(() -> Money.parseUsd("-1")).hasMessageContaining("negative");
        assertThatThrownBy(() -> Money.parseUsd("0.0000001")).hasMessageContaining("6 fractional digits");
    }

    @Test
    void quantities() {
        assertThat(Quantities.parseBytes("32Mi")).isEqualTo(32L << 20);
        assertThat(Quantities.parseBytes("1Gi")).isEqualTo(1L << 30);
        assertThat(Quantities.parseBytes("512Ki")).isEqualTo(512L << 10);
        assertThat(Quantities.parseBytes("1000")).isEqualTo(1000);
        assertThat(Quantities.parseBytes("10M")).isEqualTo(10_000_000);
        assertThat(Quantities.parseBytes("1k")).isEqualTo(1000);
        assertThat(Quantities.parseBytes("1.5Ki")).isEqualTo(1536);
        assertThat(Quantities.parseBytes("1e3")).isEqualTo(1000);
        assertThat(Quantities.parseBytes("0")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1m", "1KB", "1 Mi", "Mi", "1mi", "1Zi", "100Ei"})
    void badQuantities(String value) {
        assertThatThrownBy(() -> Quantities.parseBytes(value)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void globs() {
        assertThat(Globs.matches("claude-*", "claude-sonnet-4-6")).isTrue();
        assertThat(Globs.matches("claude-*", "claude-")).isTrue();
        assertThat(Globs.matches("claude-*", "Claude-x")).isFalse();
        assertThat(Globs.matches("*", "")).isTrue();
        assertThat(Globs.matches("*sonnet*", "claude-sonnet-4")).isTrue();
        assertThat(Globs.matches("*-4-*-x", "a-4-b-4-c-x")).isTrue();
        assertThat(Globs.matches("sonnet-model", "sonnet-model")).isTrue();
        assertThat(Globs.matches("sonnet-model", "sonnet-model2")).isFalse();
        assertThat(Globs.matches("a.c", "abc")).isFalse();
        assertThat(Globs.matches("a?c", "abc")).isFalse();
        assertThat(Globs.matches("", "")).isTrue();
        assertThat(Globs.matches("", "a")).isFalse();
        assertThat(Globs.matches(null, "a")).isFalse();
        assertThat(Globs.matches("*", null)).isFalse();
        // no catastrophic backtracking
        assertThat(Globs.matches("*a*a*a*a*a*a*a*b", "a".repeat(5000))).isFalse();
    }
}
