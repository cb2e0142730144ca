package ai.finops.gateway.it;

import static ai.finops.gateway.it.GatewayHarness.KEY;
import static ai.finops.gateway.it.GatewayHarness.PROVIDER_KEY;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ai.finops.testkit.NettyLeakDetector;
import ai.finops.testkit.Simulator;
import ai.finops.testkit.SimulatorOptions;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What clients without a key, and clients that trickle their head, cost the gateway's memory. The
 * gateway runs in this JVM (as in every IT), so the test measures the heap used after a full GC
 * (MemoryMXBean), the memory Netty's allocator holds for buffers (request bytes are read into it), and
 * the process RSS ({@code /proc/self/status}: reported, not asserted, since it also moves with the
 * heap the JVM grows for the test's own garbage and keeps). Against a baseline taken on a warmed-up
 * gateway:
 *
 * <ul>
 *   <li>100 slow heads of about 60 KB each, held open by a byte a second until the header deadline:
 *       what each costs while held, and each answered 408 at the deadline;</li>
 *   <li>100 uploads of 20 MiB without a valid key, ten at a time: each is answered 401 on its head,
 *       before a byte of its body is sent, and the bodies (2 GB in all) are dropped as they arrive,
 *       never aggregated: the memory Netty's allocator holds stays far below one batch of bodies
 *       (200 MiB);</li>
 *   <li>an authenticated request every 250 ms answers 200 throughout;</li>
 *   <li>once every connection is closed, the heap after a full GC is back within {@link #HEAP_MARGIN}
 *       of the baseline.</li>
 * </ul>
 */
@ExtendWith(NettyLeakDetector.class)
class ClientMemoryIT {
    static final int SLOW_HEADS = 100;
    static final int UPLOADS = 100;
    static final int PARALLEL_UPLOADS = 10;
    static final int BODY_BYTES = 20 << 20;
    /** What the heap may keep after the test beyond the baseline: meters, access-log and JIT leftovers, not bodies or heads. */
    static final long HEAP_MARGIN = 16L << 20;
    /** What Netty's allocator may grow by at the worst moment of the uploads: read buffers, not bodies (one batch is 200 MiB). */
    static final long ALLOCATOR_MARGIN = 64L << 20;

    private static final String GOOD = "{\"model\":\"claude-sonnet-4-6\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void clientsWithoutAKeyAndSlowHeadsCostNoMemoryThatOutlivesThem() throws Exception {
        try (Simulator simulator = Simulator.start(SimulatorOptions.builder().requiredApiKey(PROVIDER_KEY).record(false).build());
                GatewayHarness harness = new GatewayHarness()
                        .settings("""
                                limits: {headerTimeout: 6s, bodyTimeout: 20s}
                                """)
                        .write("providers.yaml", GatewayHarness.anthropicDeployment("anthropic-sim", simulator.baseUrl(), null))
                        .write("keys.yaml", GatewayHarness.keyAndSecrets())
                        .start()) {
            // warm up every path the test takes, then the baseline
            assertThat(harness.post("/v1/messages", GOOD, "x-api-key", KEY).statusCode()).isEqualTo(200);
            upload(harness, 1 << 20);
            long baselineHeap = heapAfterGc();
            long baselineAllocator = allocatorInUse();
            long baselineRss = rss();

            // a prober: an authenticated request every 250 ms, all through the test
            AtomicBoolean probing = new AtomicBoolean(true);
            AtomicInteger probes = new AtomicInteger();
            AtomicLong slowestProbe = new AtomicLong();
            List<String> probeFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
            Thread prober = new Thread(() -> {
                while (probing.get()) {
                    long t = System.nanoTime();
                    try {
                        HttpResponse<String> r = harness.post("/v1/messages", GOOD, "x-api-key", KEY);
                        if (r.statusCode() != 200) {
                            probeFailures.add(r.statusCode() + " " + r.body());
                        }
                    } catch (Exception e) {
                        probeFailures.add(e.toString());
                    }
                    slowestProbe.accumulateAndGet((System.nanoTime() - t) / 1_000_000, Math::max);
                    probes.incrementAndGet();
                    sleep(250);
                }
            }, "prober");
            prober.start();

            // 100 slow heads, about 60 KB each, kept coming a byte a second
            List<Socket> slow = new ArrayList<>();
            StringBuilder head = new StringBuilder("POST /v1/messages HTTP/1.1\r\nhost: gateway\r\n");
            for (int i = 0; i < 60; i++) {
                head.append("x-filler-").append(i).append(": ").append("f".repeat(1000)).append("\r\n");
            }
            head.append("x-slow: ");
            byte[] headBytes = head.toString().getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < SLOW_HEADS; i++) {
                Socket s = new Socket("127.0.0.1", harness.gateway.apiPort());
                s.setSoTimeout(15_000);
                s.getOutputStream().write(headBytes);
                s.getOutputStream().flush();
                slow.add(s);
            }
            AtomicBoolean trickling = new AtomicBoolean(true);
            Thread trickler = new Thread(() -> {
                while (trickling.get()) {
                    for (Socket s : slow) {
                        try {
                            s.getOutputStream().write('s');
                            s.getOutputStream().flush();
                        } catch (IOException closed) {
                            // answered and closed at the deadline
                        }
                    }
                    sleep(1_000);
                }
            }, "trickler");
            trickler.start();
            sleep(1_000);
            long slowHeadsHeap = heapAfterGc();
            long perSlowHead = (slowHeadsHeap - baselineHeap) / SLOW_HEADS;

            // 100 uploads of 20 MiB without a valid key, ten at a time, while the slow heads are held
            AtomicLong peakAllocator = new AtomicLong();
            AtomicLong peakRss = new AtomicLong();
            AtomicBoolean sampling = new AtomicBoolean(true);
            Thread sampler = new Thread(() -> {
                while (sampling.get()) {
                    peakAllocator.accumulateAndGet(allocatorInUse(), Math::max);
                    peakRss.accumulateAndGet(rss(), Math::max);
                    sleep(50);
                }
            }, "sampler");
            sampler.start();
            long uploadStart = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_UPLOADS);
            List<Future<String>> uploads = new ArrayList<>();
            for (int i = 0; i < UPLOADS; i++) {
                uploads.add(pool.submit(() -> upload(harness, BODY_BYTES)));
            }
            for (Future<String> f : uploads) {
                assertThat(f.get(60, TimeUnit.SECONDS)).as("the answer, read before the body was sent").startsWith("HTTP/1.1 401")
                        .contains("authentication_error");
            }
            pool.shutdown();
            long uploadMillis = (System.nanoTime() - uploadStart) / 1_000_000;

            // the slow heads: each answered 408 at the header deadline, then closed
            for (Socket s : slow) {
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(answer).startsWith("HTTP/1.1 408").contains("limits.headerTimeout");
            }
            trickling.set(false);
            trickler.join();
            for (Socket s : slow) {
                s.close();
            }
            sampling.set(false);
            sampler.join();
            probing.set(false);
            prober.join();

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(openConnections(harness)).isLessThanOrEqualTo(1));
            long endHeap = heapAfterGc();
            long endAllocator = allocatorInUse();
            long committed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
            long endRss = rss();
            System.out.printf(
                    "ClientMemoryIT: heap after GC baseline %d KiB, with %d slow heads %d KiB (%d bytes each), end %d KiB; "
                            + "Netty allocator baseline %d KiB, peak during uploads %d KiB, end %d KiB; RSS baseline %d MiB, peak %d MiB, "
                            + "end %d MiB (heap committed %d MiB); %d uploads of %d MiB in %d ms; %d probes, slowest %d ms%n",
                    baselineHeap >> 10, SLOW_HEADS, slowHeadsHeap >> 10, perSlowHead, endHeap >> 10,
                    baselineAllocator >> 10, peakAllocator.get() >> 10, endAllocator >> 10, baselineRss >> 20, peakRss.get() >> 20,
                    endRss >> 20, committed >> 20, UPLOADS, BODY_BYTES >> 20, uploadMillis, probes.get(), slowestProbe.get());

            assertThat(probeFailures).as("authenticated requests during the test").isEmpty();
            assertThat(probes.get()).isGreaterThan(4);
            assertThat(peakAllocator.get() - baselineAllocator).as("Netty allocator memory at the worst moment of the uploads")
                    .isLessThan(ALLOCATOR_MARGIN);
            assertThat(endHeap - baselineHeap).as("heap after GC, beyond the baseline, once every connection closed").isLessThan(HEAP_MARGIN);
        }
    }

    /**
     * One upload of {@code bytes} with a key the gateway does not know: sends the head, reads the
     * answer (it must come before the body is sent), then sends the body, which the gateway drops.
     */
    private static String upload(GatewayHarness harness, int bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", harness.gateway.apiPort())) {
            s.setSoTimeout(15_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/messages HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\nx-api-key: vk-not-a-key-0123456789\r\n"
                    + "content-length: " + bytes + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = BadInputIT.readResponse(s.getInputStream());
            byte[] chunk = CHUNK.get();
            for (int sent = 0; sent < bytes; sent += chunk.length) {
                out.write(chunk, 0, Math.min(chunk.length, bytes - sent));
            }
            out.flush();
            // the dropped body is read to its end: the connection serves the next request
            out.write("HEAD / HTTP/1.1\r\nhost: gateway\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertThat(BadInputIT.readResponse(s.getInputStream())).startsWith("HTTP/1.1 200");
            return answer;
        }
    }

    private static final ThreadLocal<byte[]> CHUNK = ThreadLocal.withInitial(() -> new byte[1 << 20]);

    private static int openConnections(GatewayHarness harness) throws Exception {
        Matcher m = Pattern.compile("(?m)^finops_gateway_connections_open ([0-9.]+)").matcher(harness.metrics());
        assertThat(m.find()).isTrue();
        return (int) Double.parseDouble(m.group(1));
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The memory Netty's default allocator (the one the gateway's connections use) holds for buffers, pooled chunks included. */
    private static long allocatorInUse() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
        }
        return io.netty.util.internal.PlatformDependent.usedDirectMemory();
    }

    /** The process's resident set, from {@code /proc/self/status}; 0 where there is none. */
    private static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) << 10;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return 0;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
