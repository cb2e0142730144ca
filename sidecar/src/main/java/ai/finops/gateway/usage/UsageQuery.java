package ai.finops.gateway.usage;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code GET /usage} asks for: the UTC days from {@code since} to {@code until} (both included; an ISO
 * date {@code 2026-12-01}, or a duration back from now, {@code 7d} or {@code 24h}: the days that window
 * touches), filters on the row's virtual key, team, model, deployment and provider (exact matches), and the
 * format ({@code json}, the default, or {@code focus}).
 */
record UsageQuery(LocalDate from, LocalDate to, Map<String, String> filters, String format) {
    static final Duration DEFAULT_WINDOW = Duration.ofDays(30);
    static final Set<String> FILTERS = Set.of("virtualKey", "team", "model", "deployment", "provider");
    static final Set<String> FORMATS = Set.of("json", "focus");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,6})([dh])");

    /** Reads {@code uri}'s query at {@code now}; a parameter that does not read is an {@link IllegalArgumentException} saying why. */
    static UsageQuery parse(String uri, Instant now) {
        Map<String, List<String>> params = new QueryStringDecoder(uri).parameters();
        Map<String, String> filters = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> p : params.entrySet()) {
            String name = p.getKey();
            if (!name.equals("since") && !name.equals("until") && !name.equals("format") && !FILTERS.contains(name)) {
                throw new IllegalArgumentException("unknown parameter '" + name + "'; known: since, until, format, virtualKey, team, model, "
                        + "deployment, provider");
            }
            if (p.getValue().size() > 1) {
                throw new IllegalArgumentException("parameter '" + name + "' is given more than once");
            }
            if (FILTERS.contains(name)) {
                filters.put(name, p.getValue().get(0));
            }
        }
        LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
        LocalDate from = day("since", one(params, "since"), now, LocalDate.ofInstant(now.minus(DEFAULT_WINDOW), ZoneOffset.UTC));
        LocalDate to = day("until", one(params, "until"), now, today);
        if (from.isAfter(to)) {
            throw new IllegalArgumentException("since (" + from + ") is after until (" + to + ")");
        }
        if (from.plusDays(UsageStore.KEEP_DAYS).isBefore(to)) {
            throw new IllegalArgumentException("at most " + UsageStore.KEEP_DAYS + " days at once (the ledger keeps " + UsageStore.KEEP_DAYS
                    + "); asked for " + from + " to " + to);
        }
        String format = one(params, "format");
        if (format == null) {
            format = "json";
        }
        if (!FORMATS.contains(format)) {
            throw new IllegalArgumentException("format must be json or focus, not '" + format + "'");
        }
        return new UsageQuery(from, to, Map.copyOf(filters), format);
    }

    /** Whether {@code key} passes the filters. */
    boolean matches(UsageKey key) {
        for (Map.Entry<String, String> f : filters.entrySet()) {
            String value = switch (f.getKey()) {
                case "virtualKey" -> key.virtualKey();
                case "team" -> key.team();
                case "model" -> key.model();
                case "deployment" -> key.deployment();
                case "provider" -> key.provider();
                default -> throw new IllegalStateException(f.getKey());
            };
            if (!value.equals(f.getValue())) {
                return false;
            }
        }
        return true;
    }

    private static String one(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null ? null : values.get(0);
    }

    private static LocalDate day(String name, String value, Instant now, LocalDate otherwise) {
        if (value == null || value.isEmpty()) {
            return otherwise;
        }
        Matcher m = DURATION.matcher(value);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration back = m.group(2).equals("d") ? Duration.ofDays(n) : Duration.ofHours(n);
            return LocalDate.ofInstant(now.minus(back), ZoneOffset.UTC);
        }
        try {
            return LocalDate.parse(value);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " must be an ISO date (2026-12-01) or a duration back from now (7d, 24h), not '"
                    + value + "'");
        }
    }
}
