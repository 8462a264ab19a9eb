package klamm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code klamm serve} process on an ephemeral loopback port, restartable on the same data
 * directory (for the kill -9 tests). The Java twin of protocol-tests/clients/klammtest.Broker:
 * the ready line {@code klamm listening on ADDR (advertised as ADDR)} gives the bootstrap address.
 */
public final class Klamm implements AutoCloseable {
    private static final Pattern READY = Pattern.compile("klamm listening on (\\S+) \\(advertised as (\\S+)\\)");
    private static final Pattern LISTENER = Pattern.compile("klamm listener (\\S+) \\(\\w+\\) on (\\S+)");
    private static final Pattern HTTP = Pattern.compile("klamm http on (\\S+)");

    private final Path root;
    private final Path dataDir;
    private final List<String> overrides;
    private final List<String> args;
    private final Path stdoutLog;
    private final Path stderrLog;
    private Process process;
    private volatile String bootstrap;
    private volatile String http;
    private final Map<String, String> listeners = new java.util.concurrent.ConcurrentHashMap<>();
    private int port;

    private Klamm(List<String> overrides, List<String> args) throws IOException {
        this.root = Files.createTempDirectory("klamm-java-");
        this.dataDir = Files.createDirectories(root.resolve("data"));
        this.overrides = List.copyOf(overrides);
        this.args = List.copyOf(args);
        this.stdoutLog = root.resolve("klamm.stdout.log");
        this.stderrLog = root.resolve("klamm.stderr.log");
    }

    /** Starts a broker with {@code --override K=V} settings. */
    public static Klamm start(String... overrides) throws IOException {
        return startWith(List.of(overrides), List.of());
    }

    /** Starts a broker with overrides and extra {@code klamm serve} flags (e.g. --dev-security). */
    public static Klamm startWith(List<String> overrides, List<String> args) throws IOException {
        Klamm k = new Klamm(overrides, args);
        k.launch();
        return k;
    }

    public static Path binary() {
        return Path.of(System.getProperty("klamm.bin", "../../target/release/klamm")).toAbsolutePath().normalize();
    }

    public String bootstrap() {
        return bootstrap;
    }

    public String http() {
        return http;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** A new Admin client on this broker's bootstrap address (the caller closes it). */
    public org.apache.kafka.clients.admin.Admin admin() {
        return org.apache.kafka.clients.admin.Admin.create(java.util.Map.of("bootstrap.servers", bootstrap));
    }

    /** HOST:PORT of a named listener from its {@code klamm listener NAME (...) on ADDR} line. */
    public String listener(String name) {
        String addr = listeners.get(name);
        if (addr == null) {
            throw new AssertionError("no listener " + name + " in klamm's output: " + listeners);
        }
        return addr;
    }

    /** (Re)starts the process; after the first start it reuses the same port and data dir. */
    public synchronized void launch() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("klamm already running");
        }
        Path bin = binary();
        if (!Files.isExecutable(bin)) {
            throw new AssertionError("klamm binary not found at " + bin + " (cargo build --release)");
        }
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "serve", "--data-dir", dataDir.toString(),
                "--listen", "127.0.0.1:" + port, "--http-listen", "127.0.0.1:0"));
        for (String o : overrides) {
            cmd.add("--override");
            cmd.add(o);
        }
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // Hermetic, as klammtest.Broker: the broker reads KLAMM_* variables as settings.
        pb.environment().keySet().removeIf(k -> k.startsWith("KLAMM_"));
        pb.environment().put("RUST_BACKTRACE", "1");
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectError(ProcessBuilder.Redirect.appendTo(stderrLog.toFile()));
        Files.writeString(stderrLog, "\n===== start: " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        bootstrap = null;
        Process p = pb.start();
        process = p;
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    Files.writeString(stdoutLog, line + "\n", StandardCharsets.UTF_8,
                            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    Matcher h = HTTP.matcher(line);
                    if (h.find()) {
                        http = h.group(1);
                    }
                    Matcher l = LISTENER.matcher(line);
                    if (l.find()) {
                        listeners.put(l.group(1), l.group(2));
                    }
                    Matcher m = READY.matcher(line);
                    if (m.find()) {
                        ready.complete(m.group(2));
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
            ready.complete(null);
        }, "klamm-stdout");
        pump.setDaemon(true);
        pump.start();
        String advertised;
        try {
            advertised = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            advertised = null;
        }
        if (advertised == null) {
            p.destroyForcibly();
            throw new AssertionError("klamm did not print its ready line; stderr tail:\n" + stderrTail());
        }
        bootstrap = advertised;
        port = Integer.parseInt(advertised.substring(advertised.lastIndexOf(':') + 1));
    }

    /** SIGKILL: nothing is flushed or closed (the durability tests). */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM and wait for a clean exit. */
    public int stop() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return process == null ? 0 : process.exitValue();
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        return process.exitValue();
    }

    public boolean alive() {
        return process != null && process.isAlive();
    }

    public String stderrTail() {
        try {
            String s = Files.readString(stderrLog, StandardCharsets.UTF_8);
            return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(no stderr: " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** Polls until {@code cond} holds, or fails with {@code what}. */
    public static void waitUntil(Duration timeout, String what, java.util.function.BooleanSupplier cond)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
