package ai.finops.gateway.server;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * Waits for work done off the event loop (a provider credential, an admission decision) and goes on
 * with the request on its own event loop: at once when the work is already done, else when it
 * completes or {@code timeout} passes, whichever comes first, exactly once.
 */
final class Resume {
    private Resume() {}

    /** What the work failed with, not the future's wrapper around it. */
    private static Throwable unwrapped(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    static <T> void on(EventLoop loop, CompletionStage<T> work, Duration timeout, BiConsumer<T, Throwable> then) {
        java.util.concurrent.CompletableFuture<T> f = work.toCompletableFuture();
        if (f.isDone() && loop.inEventLoop()) {
            T value;
            try {
                value = f.join();
            } catch (RuntimeException e) {
                then.accept(null, unwrapped(e));
                return;
            }
            then.accept(value, null);
            return;
        }
        boolean[] once = new boolean[1];
        ScheduledFuture<?> timer = loop.schedule(() -> {
            if (!once[0]) {
                once[0] = true;
                then.accept(null, new TimeoutException("no answer within " + timeout.toMillis() + " ms"));
            }
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        f.whenComplete((value, error) -> loop.execute(() -> {
            if (!once[0]) {
                once[0] = true;
                timer.cancel(false);
                then.accept(value, error == null ? null : unwrapped(error));
            }
        }));
    }
}
