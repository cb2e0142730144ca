package ai.finops.crds.validation;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.Set;

/** IANA time zone ids, such as {@code Europe/Paris} or {@code UTC}, as budgets name them. */
public final class TimeZones {
    /** The zone of a budget that names none. */
    public static final ZoneId DEFAULT = ZoneOffset.UTC;

    private TimeZones() {}

    /**
     * The zone {@code id} names: one of the JVM's IANA time zone database ids, spelled exactly. Fixed
     * offsets ({@code +02:00}, {@code UTC+2}) are refused: a place follows daylight saving time, an
     * offset does not.
     *
     * @throws IllegalArgumentException saying what is wrong, with the id it probably meant when only the case differs
     */
    public static ZoneId parse(String id) {
        if (id == null || id.isEmpty()) {
            throw new IllegalArgumentException("time zone is empty (omit it for UTC, or name an IANA time zone such as Europe/Paris)");
        }
        Set<String> ids = ZoneId.getAvailableZoneIds();
        if (ids.contains(id)) {
            return ZoneId.of(id);
        }
        String lower = id.toLowerCase(Locale.ROOT);
        String differentCase = ids.stream().filter(known -> known.toLowerCase(Locale.ROOT).equals(lower)).sorted().findFirst().orElse(null);
        if (differentCase != null) {
            throw new IllegalArgumentException("unknown time zone " + Messages.quote(id) + " (did you mean " + differentCase + "?)");
        }
        if (isOffset(id)) {
            throw new IllegalArgumentException(Messages.quote(id) + " is a fixed offset, not a time zone: name the place,"
                    + " such as Europe/Paris, so that the period follows daylight saving time");
        }
        throw new IllegalArgumentException("unknown time zone " + Messages.quote(id)
                + " (expected an IANA time zone id such as Europe/Paris, America/New_York or UTC)");
    }

    private static boolean isOffset(String id) {
        try {
            ZoneId zone = ZoneId.of(id);
            return zone instanceof ZoneOffset || zone.getRules().isFixedOffset();
        } catch (RuntimeException e) {
            return false;
        }
    }
}
