package ai.finops.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A misbehaving upstream on a plain TCP socket: it reads each HTTP request whole (head and
 * {@code content-length} body), records it, then plays the next {@link Script}: raw bytes, pauses,
 * a reset, a close, silence. Where the {@link Simulator} speaks correct HTTP, this one writes
 * exactly the bytes a test gives it, so a test can send what no well-behaved server would. One
 * thread per connection; for tests.
 *
 * <p>A script that ends without closing the connection keeps it open for the next request, as a
 * keep-alive server would. A request that finds no script left is answered by closing the
 * connection.
 */
public final class RawUpstream implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final ConcurrentLinkedQueue<Script> scripts = new ConcurrentLinkedQueue<>();
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private volatile boolean closed;

    private RawUpstream() throws IOException {
        server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        acceptor = new Thread(this::accept, "raw-upstream-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static RawUpstream start() {
        try {
            return new RawUpstream();
        } catch (IOException e) {
            throw new IllegalStateException("raw upstream did not start: " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code http://127.0.0.1:PORT}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Scripts for the next requests, in order; one is played per request, whatever its connection. */
    public RawUpstream enqueue(Script... next) {
        scripts.addAll(List.of(next));
        return this;
    }

    /** Every request read so far, each as its head and body in text, in arrival order. */
    public List<String> requests() {
        synchronized (requests) {
            return new ArrayList<>(requests);
        }
    }

    /** Forgets the recorded requests, the count of connections and the scripts not played yet. */
    public void clear() {
        requests.clear();
        scripts.clear();
        accepted.set(0);
    }

    /** Connections accepted since the start or the last {@link #clear()}. */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** Connections accepted and not closed yet, by either side. */
    public int openConnections() {
        open.removeIf(Socket::isClosed);
        return open.size();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
    }

    private void accept() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;    // closed
            }
            open.add(s);
            accepted.incrementAndGet();
            Thread t = new Thread(() -> serve(s), "raw-upstream-" + s.getPort());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            while (true) {
                String request = readRequest(in);
                if (request == null) {
                    return;    // the peer closed the connection
                }
                requests.add(request);
                Script script = scripts.poll();
                if (script == null || !script.play(s, in, out)) {
                    return;
                }
            }
        } catch (IOException e) {
            // the peer went away, or the test closed the upstream
        } finally {
            open.remove(s);
        }
    }

    /** One request, head and body, or null at the end of the stream before a request began. */
    private static String readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;    // of "\r\n\r\n"
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new IOException("the request ended inside its head");
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
        }
        String text = head.toString(StandardCharsets.ISO_8859_1);
        int length = 0;
        for (String line : text.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                length = Integer.parseInt(line.substring(colon + 1).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        if (body.length < length) {
            throw new IOException("the request ended inside its body");
        }
        return text + new String(body, StandardCharsets.UTF_8);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    /** A complete response: status line, {@code content-type}, {@code content-length} and the body. */
    public static String response(int status, String contentType, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 " + status + " " + (status < 300 ? "OK" : "Error") + "\r\n"
                + "content-type: " + contentType + "\r\n"
                + "content-length: " + bytes.length + "\r\n\r\n" + body;
    }

    /** What happens after a request was read, step by step; build with {@link #script()}. */
    public static Script script() {
        return new Script(List.of());
    }

    /** Steps played in order on the connection of one request. Immutable: each method returns a longer script. */
    public static final class Script {
        private sealed interface Step permits Write, Pause, End {}

        private record Write(byte[] bytes) implements Step {}

        private record Pause(Duration duration) implements Step {}

        private enum End implements Step { CLOSE, RESET, SILENCE }

        private final List<Step> steps;

        private Script(List<Step> steps) {
            this.steps = steps;
        }

        private Script then(Step step) {
            List<Step> more = new ArrayList<>(steps);
            more.add(step);
            return new Script(List.copyOf(more));
        }

        /** Writes this text (UTF-8) and flushes. */
        public Script write(String text) {
            return write(text.getBytes(StandardCharsets.UTF_8));
        }

        public Script write(byte[] bytes) {
            return then(new Write(bytes.clone()));
        }

        public Script pause(Duration duration) {
            return then(new Pause(duration));
        }

        /** Closes the connection the ordinary way (FIN). */
        public Script close() {
            return then(End.CLOSE);
        }

        /** Resets the connection: {@code SO_LINGER} 0, then close, so the peer reads a TCP RST. */
        public Script reset() {
            return then(End.RESET);
        }

        /** Sends nothing more and keeps the connection open until the peer closes it. */
        public Script silence() {
            return then(End.SILENCE);
        }

        /** Plays the steps; true when the connection stays open for another request. */
        boolean play(Socket s, InputStream in, OutputStream out) throws IOException {
            for (Step step : steps) {
                if (step instanceof Write w) {
                    out.write(w.bytes());
                    out.flush();
                } else if (step instanceof Pause p) {
                    try {
                        Thread.sleep(p.duration().toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                } else if (step == End.RESET) {
                    s.setSoLinger(true, 0);
                    s.close();
                    return false;
                } else if (step == End.CLOSE) {
                    s.close();
                    return false;
                } else if (step == End.SILENCE) {
                    in.transferTo(OutputStream.nullOutputStream());   // until the peer closes
                    return false;
                }
            }
            return true;
        }
    }
}
