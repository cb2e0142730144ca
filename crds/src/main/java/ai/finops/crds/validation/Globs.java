package ai.finops.crds.validation;

/**
 * Glob patterns as used by {@code VirtualKey.spec.allow.models}: {@code *} matches any run of
 * characters (including none); every other character matches itself, case-sensitively. There is no
 * {@code ?}, no character class and no escaping.
 */
public final class Globs {
    private Globs() {}

    /**
     * Whether {@code value} matches {@code pattern} as a whole. Null pattern or value: false. Runs in
     * O(pattern length x value length) at worst, without recursion or allocation.
     */
    public static boolean matches(String pattern, String value) {
        if (pattern == null || value == null) {
            return false;
        }
        int p = 0;
        int v = 0;
        int star = -1;
        int resume = 0;
        while (v < value.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = v;
            } else if (p < pattern.length() && pattern.charAt(p) == value.charAt(v)) {
                p++;
                v++;
            } else if (star >= 0) {
                p = star + 1;
                v = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
