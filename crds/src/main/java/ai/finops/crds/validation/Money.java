package ai.finops.crds.validation;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/** US dollar amounts written as decimal strings, such as {@code "50.00"} or {@code "0.25"}. */
public final class Money {
    /** Most fractional digits accepted (micro-dollars). */
    public static final int MAX_FRACTION_DIGITS = 6;
    private static final Pattern USD = Pattern.compile("([0-9]{1,15})(\\.([0-9]+))?");

    private Money() {}

    /**
     * Parses a non-negative decimal with at most {@value #MAX_FRACTION_DIGITS} fractional digits. No
     * sign, exponent, currency symbol, thousands separator or surrounding space.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static BigDecimal parseUsd(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("amount is empty (expected a decimal string such as \"50.00\")");
        }
        if (value.startsWith("-")) {
            throw new IllegalArgumentException("amount " + Messages.quote(value) + " is negative");
        }
        var m = USD.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("amount " + Messages.quote(value)
                    + " is not a plain decimal number of US dollars (expected e.g. \"50.00\" or \"0.25\")");
        }
        if (m.group(3) != null && m.group(3).length() > MAX_FRACTION_DIGITS) {
            throw new IllegalArgumentException("amount " + Messages.quote(value) + " has more than " + MAX_FRACTION_DIGITS
                    + " fractional digits");
        }
        return new BigDecimal(value);
    }

    /** The largest amount {@link #toMicros} takes: {@code Long.MAX_VALUE} micro-dollars. */
    public static final BigDecimal MAX_MICROS_USD = BigDecimal.valueOf(Long.MAX_VALUE, MAX_FRACTION_DIGITS);

    /**
     * Parses an amount as {@link #parseUsd} does, as whole micro-dollars: {@code "2000.00"} is
     * {@code 2_000_000_000}. Exact (at most six fractional digits are accepted).
     *
     * @throws IllegalArgumentException saying what is wrong, or that the amount is beyond {@link #MAX_MICROS_USD}
     */
    public static long toMicros(String value) {
        BigDecimal usd = parseUsd(value);
        if (usd.compareTo(MAX_MICROS_USD) > 0) {
            throw new IllegalArgumentException("amount " + Messages.quote(value) + " is too large (at most "
                    + MAX_MICROS_USD.toBigInteger() + " dollars)");
        }
        return usd.movePointRight(MAX_FRACTION_DIGITS).longValueExact();
    }

    /** Whether {@code value} parses. */
    public static boolean isValid(String value) {
        try {
            parseUsd(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
