package ai.finops.testkit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A real {@code redis-server} process on a free loopback port, for tests: bound to 127.0.0.1, no
 * persistence ({@code --save "" --appendonly no}), its files and log in a temporary directory.
 * {@link #start} returns once the server answers {@code PING}. A test can take it away and bring it
 * back: {@link #stop()} (SIGTERM), {@link #kill()} (SIGKILL), {@link #freeze()} (SIGSTOP: connections
 * stay open and nothing answers) and {@link #restart()} on the same port, empty.
 *
 * <p>{@code redis-server} is optional for a local build: without it {@link #start} skips the test
 * (a JUnit assumption) with a message saying so; in CI ({@code CI} set, as {@code .ci/run} does after
 * installing it) its absence fails the test.
 */
public final class RedisServer implements AutoCloseable {
    private static final String BINARY = "redis-server";
    private static final long READY_MILLIS = 10_000;

    private final Path dir;
    private final List<String> extraArgs;
    private final TestCertificates.Certificate tls;
    private final int port;
    private Process process;

    private RedisServer(Path dir, int port, TestCertificates.Certificate tls, List<String> extraArgs) {
        this.dir = dir;
        this.port = port;
        this.tls = tls;
        this.extraArgs = List.copyOf(extraArgs);
    }

    /**
     * Starts a server on a free port; {@code extraArgs} are added to its command line (e.g.
     * {@code "--requirepass", "secret"}).
     */
    public static RedisServer start(String... extraArgs) {
        return launch(null, extraArgs);
    }

    /** Starts a server that speaks TLS only (no client certificate asked), with {@code certificate}. */
    public static RedisServer startTls(TestCertificates.Certificate certificate, String... extraArgs) {
        return launch(certificate, extraArgs);
    }

    private static RedisServer launch(TestCertificates.Certificate tls, String... extraArgs) {
        assumeInstalled();
        Path dir;
        try {
            dir = Files.createTempDirectory("redis-server");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            RedisServer server = new RedisServer(dir, freePort(), tls, List.of(extraArgs));
            try {
                server.launch();
                return server;
            } catch (IllegalStateException e) {
                last = e;    // most likely the port was taken between choosing and binding it
            }
        }
        throw last;
    }

    /**
     * Skips the calling test when {@code redis-server} is not on the PATH, or fails it when the
     * environment variable {@code CI} is set.
     */
    public static void assumeInstalled() {
        boolean present;
        try {
            Process probe = new ProcessBuilder(BINARY, "--version").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            present = probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            present = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            present = false;
        }
        String message = BINARY + " is not on the PATH, so the tests against a real Redis were not run (apt-get install redis-server)";
        if (!present && System.getenv("CI") != null) {
            fail(message);
        }
        assumeTrue(present, message);
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}, or {@code rediss://} for a TLS server. */
    public String url() {
        return (tls == null ? "redis" : "rediss") + "://127.0.0.1:" + port;
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /** Stops the server with SIGTERM and waits for it to exit. */
    public synchronized void stop() {
        end(false);
    }

    /** Kills the server with SIGKILL: connections drop at once, without a goodbye. */
    public synchronized void kill() {
        end(true);
    }

    /** Suspends the server (SIGSTOP): its connections stay open, and nothing is answered until {@link #thaw()}. */
    public synchronized void freeze() {
        signal("STOP");
    }

    /** Resumes a {@link #freeze() frozen} server. */
    public synchronized void thaw() {
        signal("CONT");
    }

    /** Starts the server again on the same port (stopping it first when it runs), with no data. */
    public synchronized void restart() {
        if (running()) {
            kill();
        }
        long deadline = System.currentTimeMillis() + READY_MILLIS;
        while (true) {
            try {
                launch();
                return;
            } catch (IllegalStateException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
                sleep(50);    // the old process may still hold the port for a moment
            }
        }
    }

    /** What the server logged so far. */
    public String log() {
        try {
            Path log = dir.resolve("redis.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(log unreadable: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (process != null && process.isAlive()) {
            thaw();    // a frozen process ignores SIGTERM but not SIGKILL; thaw anyway, to be tidy
            end(true);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory left behind
        }
    }

    private synchronized void launch() {
        List<String> command = new ArrayList<>(List.of(BINARY, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", dir.toString(), "--daemonize", "no", "--logfile", ""));
        if (tls == null) {
            command.addAll(List.of("--port", Integer.toString(port)));
        } else {
            try {
                Path cert = tls.writeTo(dir.resolve("tls"));
                command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port), "--tls-cert-file", cert.toString(),
                        "--tls-key-file", cert.resolveSibling("key.pem").toString(), "--tls-auth-clients", "no"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        command.addAll(extraArgs);
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("redis-server did not start: " + e.getMessage(), e);
        }
        long deadline = System.currentTimeMillis() + READY_MILLIS;
        while (!answersPing()) {
            if (!process.isAlive() || System.currentTimeMillis() > deadline) {
                process.destroyForcibly();
                throw new IllegalStateException("redis-server on port " + port + " did not answer PING; its log:\n" + log());
            }
            sleep(20);
        }
    }

    private void end(boolean forcibly) {
        if (process == null) {
            return;
        }
        if (forcibly) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void signal(String name) {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("redis-server is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the server answers PING ({@code +PONG}, or {@code -NOAUTH} when it asks for a password). */
    private boolean answersPing() {
        try (Socket socket = tls == null ? new Socket() : trustingAll().getSocketFactory().createSocket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String line = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            return line != null && (line.equals("+PONG") || line.startsWith("-NOAUTH"));
        } catch (IOException e) {
            return false;
        }
    }

    /** The readiness probe only asks whether the server is up; the client under test verifies the certificate. */
    private static SSLContext trustingAll() {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return context;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
