package ai.finops.gateway.server;

import ai.finops.gateway.routing.Attempt;
import java.util.ArrayList;
import java.util.List;

/**
 * Which attempt comes next, and why the earlier ones failed. A failure may ask for the same
 * deployment again (up to its {@code retries.attempts}); otherwise the next attempt of the list follows.
 */
final class AttemptPlan {
    private final List<Attempt> attempts;
    private final List<String> failures = new ArrayList<>(2);
    private int index = -1;
    private int triesOnAttempt;
    private boolean sameAgain;
    private int calls;
    private int failureStatus = 502;

    AttemptPlan(List<Attempt> attempts) {
        this.attempts = attempts;
    }

    /** The next attempt, or null when none is left. */
    Attempt next() {
        if (index >= 0 && sameAgain && triesOnAttempt < current().deployment().attempts()) {
            triesOnAttempt++;
        } else {
            index++;
            triesOnAttempt = 1;
        }
        sameAgain = false;
        return index < attempts.size() ? attempts.get(index) : null;
    }

    /** The attempt under way, or null before the first and after the last. */
    Attempt current() {
        return index >= 0 && index < attempts.size() ? attempts.get(index) : null;
    }

    /** An upstream call starts: the number it carries (1-based). */
    int called() {
        return ++calls;
    }

    int calls() {
        return calls;
    }

    /** The attempt under way failed; {@code clientStatus} is what the client gets if nothing after it answers. */
    void failed(String reason, int clientStatus, boolean tryTheSameAgain) {
        failures.add(reason);
        failureStatus = clientStatus;
        sameAgain = tryTheSameAgain;
    }

    /** The same attempt once more with an adapted request: it does not count as one of the deployment's tries. */
    void again(String reason) {
        failures.add(reason);
        triesOnAttempt--;
        sameAgain = true;
    }

    /** Whether a failure with this response status would still leave something to try. */
    boolean anotherAfter(int status) {
        return index + 1 < attempts.size() || retriesSame(status) && triesOnAttempt < current().deployment().attempts();
    }

    /** 429, 529 and 5xx: the deployment is cooled down, and the request moves on when something is left to try. */
    static boolean retryable(int status) {
        return status == 429 || status == 529 || status >= 500;
    }

    /** 5xx (but 529, overloaded) is tried on the same deployment again; 429 and 529 move on. */
    static boolean retriesSame(int status) {
        return status >= 500 && status != 529;
    }

    List<String> failures() {
        return failures;
    }

    int failureStatus() {
        return failureStatus;
    }

    String allFailed() {
        return "all upstream attempts failed: " + String.join("; ", failures);
    }
}
