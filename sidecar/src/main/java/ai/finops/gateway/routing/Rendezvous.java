package ai.finops.gateway.routing;

import java.nio.charset.StandardCharsets;

/**
 * Weighted rendezvous (highest random weight) hashing: every replica that sees the same session key
 * and the same candidates computes the same order, with no shared state, and removing a candidate
 * only moves the sessions that were on it. The score {@code -weight / ln(u)}, with {@code u} a hash
 * of (session, candidate) mapped into (0, 1), makes a candidate first with probability proportional
 * to its weight.
 */
public final class Rendezvous {
    private Rendezvous() {}

    public static double score(String sessionKey, String candidateId, double weight) {
        if (weight <= 0) {
            return Double.NEGATIVE_INFINITY;
        }
        long h = mix(fnv1a(sessionKey, fnv1a(candidateId, 0xcbf29ce484222325L) * 31));
        double u = ((h >>> 11) + 0.5) / (double) (1L << 53);   // strictly inside (0, 1)
        return -weight / Math.log(u);
    }

    private static long fnv1a(String s, long seed) {
        long h = seed;
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** SplitMix64 finaliser: spreads FNV's weak low bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
