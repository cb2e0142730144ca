package ai.finops.crds.validation;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Pattern;

/**
 * Kubernetes quantities as byte counts: {@code 1000}, {@code 512Ki}, {@code 32Mi}, {@code 1Gi}
 * (binary suffixes Ki Mi Gi Ti Pi Ei), {@code 10M}, {@code 1k} (decimal suffixes k M G T P E),
 * or an exponent ({@code 1e6}). Fractions are allowed ({@code 1.5Gi}) and rounded up to whole bytes,
 * as Kubernetes does. Negative values and the milli suffix {@code m} are rejected.
 */
public final class Quantities {
    private static final Pattern QUANTITY = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)([A-Za-z]{0,2}|[eE][0-9]{1,2})");

    private Quantities() {}

    /**
     * Parses a byte quantity.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static long parseBytes(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("quantity is empty (expected e.g. 32Mi, 1Gi, 1000)");
        }
        if (value.startsWith("-")) {
            throw new IllegalArgumentException("quantity " + Messages.quote(value) + " is negative");
        }
        var m = QUANTITY.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException("quantity " + Messages.quote(value)
                    + " is not a Kubernetes quantity (expected e.g. 32Mi, 1Gi, 512Ki, 10M, 1000)");
        }
        BigDecimal number = new BigDecimal(m.group(1));
        String suffix = m.group(2);
        BigDecimal multiplier;
        if (!suffix.isEmpty() && (suffix.charAt(0) == 'e' || suffix.charAt(0) == 'E') && suffix.length() > 1
                && Character.isDigit(suffix.charAt(1))) {
            multiplier = BigDecimal.TEN.pow(Integer.parseInt(suffix.substring(1)));
        } else {
            multiplier = switch (suffix) {
                case "" -> BigDecimal.ONE;
                case "k" -> BigDecimal.TEN.pow(3);
                case "M" -> BigDecimal.TEN.pow(6);
                case "G" -> BigDecimal.TEN.pow(9);
                case "T" -> BigDecimal.TEN.pow(12);
                case "P" -> BigDecimal.TEN.pow(15);
                case "E" -> BigDecimal.TEN.pow(18);
                case "Ki" -> BigDecimal.valueOf(1L << 10);
                case "Mi" -> BigDecimal.valueOf(1L << 20);
                case "Gi" -> BigDecimal.valueOf(1L << 30);
                case "Ti" -> BigDecimal.valueOf(1L << 40);
                case "Pi" -> BigDecimal.valueOf(1L << 50);
                case "Ei" -> BigDecimal.valueOf(1L << 60);
                case "m" -> throw new IllegalArgumentException("quantity " + Messages.quote(value)
                        + ": the milli suffix 'm' makes no sense for bytes");
                default -> throw new IllegalArgumentException("quantity " + Messages.quote(value) + ": unknown suffix "
                        + Messages.quote(suffix) + " (one of Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E)");
            };
        }
        BigDecimal bytes = number.multiply(multiplier).setScale(0, RoundingMode.CEILING);
        if (bytes.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("quantity " + Messages.quote(value) + " is too large");
        }
        return bytes.longValueExact();
    }
}
