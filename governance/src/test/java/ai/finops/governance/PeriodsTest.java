package ai.finops.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.finops.crds.BudgetPeriod;
import ai.finops.governance.Periods.Period;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** BudgetPeriod periods in a zone: boundaries across month ends, daylight saving, ISO weeks and quarters. */
class PeriodsTest {
    static final ZoneId LA = ZoneId.of("America/Los_Angeles");
    static final ZoneId SANTIAGO = ZoneId.of("America/Santiago");

    static Period current(String period, ZoneId zone, Clock clock) {
        return Periods.of(period, zone).current(clock.instant());
    }

    static Clock at(String instant) {
        return Clock.fixed(Instant.parse(instant), ZoneOffset.UTC);
    }

    static Period period(String start, String end, String suffix) {
        return new Period(Instant.parse(start), Instant.parse(end), suffix);
    }

    @Test
    void theLastHoursOfDecemberInLosAngelesAreJanuaryInUtc() {
        Clock clock = at("2027-01-01T07:30:00Z");       // 2026-12-31 23:30 PST
        assertThat(current("Monthly", null, clock)).isEqualTo(period("2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", "2027-01"));
        assertThat(current("Monthly", LA, clock)).isEqualTo(period("2026-12-01T08:00:00Z", "2027-01-01T08:00:00Z", "2026-12"));
        assertThat(current("Daily", LA, clock)).isEqualTo(period("2026-12-31T08:00:00Z", "2027-01-01T08:00:00Z", "2026-12-31"));
        assertThat(current("Monthly", LA, at("2027-01-01T08:00:00Z")).suffix()).isEqualTo("2027-01");
    }

    @Test
    void daysAcrossDaylightSavingLast23And25Hours() {
        Period spring = current("Daily", LA, at("2026-03-08T12:00:00Z"));
        assertThat(spring).isEqualTo(period("2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", "2026-03-08"));
        assertThat(Duration.between(spring.start(), spring.end())).isEqualTo(Duration.ofHours(23));
        Period autumn = current("Daily", LA, at("2026-11-01T12:00:00Z"));
        assertThat(autumn).isEqualTo(period("2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", "2026-11-01"));
        assertThat(Duration.between(autumn.start(), autumn.end())).isEqualTo(Duration.ofHours(25));
        assertThat(current("Monthly", LA, at("2026-03-20T00:00:00Z")))
                .isEqualTo(period("2026-03-01T08:00:00Z", "2026-04-01T07:00:00Z", "2026-03"));
    }

    @Test
    void aDayWhoseMidnightFallsInADaylightSavingGapStartsAtItsFirstInstant() {
        // Chile moves from 00:00 -04:00 to 01:00 -03:00 on 2026-09-06
        assertThat(current("Daily", SANTIAGO, at("2026-09-06T12:00:00Z")))
                .isEqualTo(period("2026-09-06T04:00:00Z", "2026-09-07T03:00:00Z", "2026-09-06"));
        assertThat(current("Daily", SANTIAGO, at("2026-09-06T03:59:59Z")).suffix()).isEqualTo("2026-09-05");
    }

    @Test
    void weeksStartOnMondayAndAreNamedByIsoWeek() {
        assertThat(current("Weekly", null, at("2026-12-06T23:59:59Z")))
                .isEqualTo(period("2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", "2026-W49"));
        assertThat(current("Weekly", null, at("2026-12-07T00:00:00Z")))
                .isEqualTo(period("2026-12-07T00:00:00Z", "2026-12-14T00:00:00Z", "2026-W50"));
        // the week of 2025-12-29 holds 2026's first Thursday; 2026 has 53 weeks
        assertThat(current("Weekly", null, at("2025-12-31T12:00:00Z")).suffix()).isEqualTo("2026-W01");
        assertThat(current("Weekly", null, at("2027-01-01T12:00:00Z")))
                .isEqualTo(period("2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z", "2026-W53"));
        // Monday 07:59 UTC is still Sunday in Los Angeles
        assertThat(current("Weekly", LA, at("2026-12-07T07:59:59Z")).suffix()).isEqualTo("2026-W49");
        assertThat(current("Weekly", LA, at("2026-12-07T08:00:00Z")).start()).isEqualTo(Instant.parse("2026-12-07T08:00:00Z"));
    }

    @Test
    void quartersStartInJanuaryAprilJulyAndOctober() {
        assertThat(current("Quarterly", null, at("2026-12-07T10:00:00Z")))
                .isEqualTo(period("2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-Q4"));
        assertThat(current("Quarterly", null, at("2026-03-31T23:00:00Z")))
                .isEqualTo(period("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-Q1"));
        assertThat(current("Quarterly", ZoneId.of("Asia/Tokyo"), at("2026-03-31T23:00:00Z")))
                .isEqualTo(period("2026-03-31T15:00:00Z", "2026-06-30T15:00:00Z", "2026-Q2"));
        assertThat(current("Quarterly", LA, at("2026-08-15T00:00:00Z")))
                .isEqualTo(period("2026-07-01T07:00:00Z", "2026-10-01T07:00:00Z", "2026-Q3"));
    }

    @Test
    void totalIsOnePeriodForEver() {
        Period total = current("Total", LA, at("2026-12-07T10:00:00Z"));
        assertThat(total).isEqualTo(new Period(null, null, "total"));
        assertThat(total.contains(Instant.EPOCH)).isTrue();
        assertThat(total.ttl(Instant.EPOCH, Duration.ofDays(1))).isNull();
    }

    @Test
    void aSpendCounterIsKeptUntilThePeriodEndsAndThenSomeMore() {
        Instant now = Instant.parse("2026-12-07T10:00:00Z");
        Period december = Periods.of(BudgetPeriod.MONTHLY, null).current(now);
        assertThat(now.plus(december.ttl(now, Duration.ofDays(1)))).isEqualTo(Instant.parse("2027-01-02T00:00:00Z"));
        assertThat(december.ttl(Instant.parse("2027-01-01T00:00:05Z"), Duration.ofDays(1))).isEqualTo(Duration.ofDays(1));
    }

    @Test
    void periodsAreNamedAsBudgetsSpellThemAndRollingWindowsAreRefused() {
        assertThat(Periods.of("Monthly", null).period()).isEqualTo(BudgetPeriod.MONTHLY);
        assertThat(Periods.of("quarterly", null).period()).isEqualTo(BudgetPeriod.QUARTERLY);
        assertThat(Periods.of("Daily", null).zone()).isEqualTo(ZoneOffset.UTC);
        assertThat(BudgetPeriod.WEEKLY.id()).isEqualTo("Weekly");
        assertThatThrownBy(() -> Periods.of("7d", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"7d\"").hasMessageContaining("rolling");
        assertThatThrownBy(() -> Periods.of((String) null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyInstantFallsInExactlyOnePeriodAndPeriodsMeetEndToEnd() {
        Random random = new Random(20261207);
        List<ZoneId> zones = List.of(ZoneOffset.UTC, LA, SANTIAGO, ZoneId.of("Pacific/Auckland"), ZoneId.of("Asia/Kolkata"),
                ZoneId.of("Australia/Lord_Howe"), ZoneId.of("Africa/Cairo"));
        long from = Instant.parse("2025-01-01T00:00:00Z").getEpochSecond();
        long to = Instant.parse("2028-01-01T00:00:00Z").getEpochSecond();
        for (int i = 0; i < 2_000; i++) {
            Instant now = Instant.ofEpochSecond(from + (long) (random.nextDouble() * (to - from)), random.nextInt(1_000_000_000));
            ZoneId zone = zones.get(i % zones.size());
            for (BudgetPeriod calendar : List.of(BudgetPeriod.DAILY, BudgetPeriod.WEEKLY, BudgetPeriod.MONTHLY, BudgetPeriod.QUARTERLY)) {
                Periods periods = Periods.of(calendar, zone);
                Period p = periods.current(now);
                assertThat(p.contains(now)).as("%s at %s", periods, now).isTrue();
                assertThat(periods.current(p.start())).as("%s at its start", periods).isEqualTo(p);
                assertThat(periods.current(p.end().minusNanos(1))).as("%s just before its end", periods).isEqualTo(p);
                Period next = periods.current(p.end());
                assertThat(next.start()).isEqualTo(p.end());
                assertThat(next.suffix()).isNotEqualTo(p.suffix());
                LocalDate firstDay = LocalDate.ofInstant(p.start(), zone);
                assertThat(LocalDate.ofInstant(p.start().minusNanos(1), zone)).isBefore(firstDay);
            }
        }
    }
}
