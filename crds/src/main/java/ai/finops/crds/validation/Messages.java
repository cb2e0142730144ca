package ai.finops.crds.validation;

/** Helpers to quote user input in messages safely (never used for secret values). */
final class Messages {
    static final int MAX_QUOTED = 120;

    private Messages() {}

    /** {@code 'value'}, truncated, with control and non-ASCII-printable characters as {@code \\uXXXX}. */
    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(Math.min(value.length(), MAX_QUOTED) + 8).append('\'');
        int n = Math.min(value.length(), MAX_QUOTED);
        for (int i = 0; i < n; i++) {
            sb.append(printable(value.charAt(i)));
        }
        if (value.length() > MAX_QUOTED) {
            sb.append("...");
        }
        return sb.append('\'').toString();
    }

    /** One character as it should appear in a message: itself when printable ASCII, else {@code \\uXXXX}. */
    static String printable(char c) {
        if (c >= 0x21 && c < 0x7f) {
            return String.valueOf(c);
        }
        return String.format("\\u%04X", (int) c);
    }

    /** Describes a character for "character X is not allowed" messages. */
    static String describe(char c) {
        if (c == ' ') {
            return "' ' (space)";
        }
        if (c >= 0x21 && c < 0x7f) {
            return "'" + c + "'";
        }
        return "U+" + String.format("%04X", (int) c) + (Character.isISOControl(c) ? " (control character)" : "");
    }
}
