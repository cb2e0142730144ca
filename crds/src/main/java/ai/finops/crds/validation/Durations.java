package ai.finops.crds.validation;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * Go / Kubernetes style durations: a sequence of decimal numbers each with a unit, such as
 * {@code 250ms}, {@code 5s}, {@code 1m30s}, {@code 2h}, {@code 1.5s}. Units: {@code ns}, {@code us}
 * (or {@code µs}), {@code ms}, {@code s}, {@code m}, {@code h}. A bare {@code 0} is accepted, as
 * in Go. Negative durations, signs, spaces and numbers without a unit are rejected.
 */
public final class Durations {
    private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

    private Durations() {}

    /**
     * Parses a duration; zero ({@code 0s}, {@code 0}) is allowed.
     *
     * @throws IllegalArgumentException with a message that quotes the input and says what is wrong
     */
    public static Duration parse(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("duration is empty (expected e.g. 5s, 250ms, 1m30s)");
        }
        if (value.equals("0")) {
            return Duration.ZERO;
        }
        char first = value.charAt(0);
        if (first == '-') {
            throw new IllegalArgumentException("duration " + Messages.quote(value) + " is negative");
        }
        if (first == '+') {
            throw new IllegalArgumentException("duration " + Messages.quote(value) + " must not have a sign");
        }
        BigDecimal nanos = BigDecimal.ZERO;
        int i = 0;
        int n = value.length();
        while (i < n) {
            int start = i;
            while (i < n && (Character.isDigit(value.charAt(i)) && value.charAt(i) < 128 || value.charAt(i) == '.')) {
                i++;
            }
            String number = value.substring(start, i);
            if (number.isEmpty()) {
                throw new IllegalArgumentException("duration " + Messages.quote(value) + ": expected a number at position "
                        + start + " but found " + Messages.describe(value.charAt(start)) + " (expected e.g. 5s, 250ms, 1m30s)");
            }
            if (number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
                throw new IllegalArgumentException("duration " + Messages.quote(value) + ": malformed number " + Messages.quote(number));
            }
            int unitStart = i;
            while (i < n && !(Character.isDigit(value.charAt(i)) && value.charAt(i) < 128) && value.charAt(i) != '.') {
                i++;
            }
            String unit = value.substring(unitStart, i);
            long factor = switch (unit) {
                case "ns" -> 1L;
                case "us", "µs", "μs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                case "" -> throw new IllegalArgumentException("duration " + Messages.quote(value) + ": missing unit after "
                        + Messages.quote(number) + " (one of ns, us, ms, s, m, h; e.g. " + number + "s)");
                default -> throw new IllegalArgumentException("duration " + Messages.quote(value) + ": unknown unit "
                        + Messages.quote(unit) + " (one of ns, us, ms, s, m, h)");
            };
            nanos = nanos.add(new BigDecimal(number).multiply(BigDecimal.valueOf(factor)));
            if (nanos.toBigInteger().compareTo(MAX_NANOS) > 0) {
                throw new IllegalArgumentException("duration " + Messages.quote(value) + " is too large");
            }
        }
        return Duration.ofNanos(nanos.setScale(0, RoundingMode.DOWN).longValueExact());
    }

    /** The shortest rolling budget window. */
    public static final Duration MIN_ROLLING = Duration.ofHours(1);
    /** The longest rolling budget window. */
    public static final Duration MAX_ROLLING = Duration.ofDays(366);
    private static final java.util.regex.Pattern ROLLING = java.util.regex.Pattern.compile("([0-9]{1,9})([dh])");

    /**
     * Parses a budget's rolling window: a whole number of days or hours, {@code 7d} or {@code 12h},
     * from {@link #MIN_ROLLING} to {@link #MAX_ROLLING}. Days are 24 hours.
     *
     * @throws IllegalArgumentException with a message that quotes the input and says what is wrong
     */
    public static Duration parseRolling(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("window is empty (expected whole days or hours, such as 7d or 12h)");
        }
        var m = ROLLING.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("window " + Messages.quote(value) + (isValid(value)
                    ? " is not a whole number of days or hours (write it as days or hours alone, such as 7d or 12h)"
                    : " is not a rolling window (expected whole days or hours, such as 7d or 12h)"));
        }
        long amount = Long.parseLong(m.group(1));
        Duration window = m.group(2).equals("d") ? Duration.ofDays(amount) : Duration.ofHours(amount);
        if (window.compareTo(MIN_ROLLING) < 0) {
            throw new IllegalArgumentException("window " + Messages.quote(value) + " is shorter than 1h");
        }
        if (window.compareTo(MAX_ROLLING) > 0) {
            throw new IllegalArgumentException("window " + Messages.quote(value) + " is longer than 366d");
        }
        return window;
    }

    /** Whether {@code value} parses. */
    public static boolean isValid(String value) {
        try {
            parse(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
