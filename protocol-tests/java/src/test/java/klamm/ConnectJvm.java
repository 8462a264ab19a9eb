package klamm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kafka Connect or MirrorMaker 2 process: {@code java -cp <target/java/connect.classpath> MAIN
 * ARGS...}. Connect is a server with its own Kafka release (connect-runtime, connect-mirror and
 * connect-file 4.3.1, resolved by protocol-tests/java/connect/pom.xml), so it runs in its own JVM,
 * never in the test JVM with the 4.4.0 clients. Its log (slf4j-simple at INFO, Kafka's client
 * config dumps at WARN) and its stdout/stderr go to {@code connect.log} in the given directory;
 * {@link #close()} (and a shutdown hook, should the test JVM die first) destroys the process.
 */
public final class ConnectJvm implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final Thread reaper;

    private ConnectJvm(Process process, Path log) {
        this.process = process;
        this.log = log;
        this.reaper = new Thread(process::destroyForcibly, "connect-jvm-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
    }

    /** The resolved classpath file; run-all's install step (or the command in its message) writes it. */
    public static Path classpathFile() {
        String root = System.getProperty("klamm.root", "../..");
        return Path.of(root, "target", "java", "connect.classpath").toAbsolutePath().normalize();
    }

    /** Starts {@code mainClass} with {@code args}; the working directory and log live in {@code dir}. */
    public static ConnectJvm start(Path dir, String mainClass, String... args) throws IOException {
        Path cpFile = classpathFile();
        if (!Files.isRegularFile(cpFile)) {
            throw new AssertionError("no " + cpFile + ": run protocol-tests/run-all --install-only, or mvn -f "
                    + "protocol-tests/java/connect/pom.xml dependency:build-classpath -Dmdep.outputFile=" + cpFile);
        }
        String classpath = Files.readString(cpFile, StandardCharsets.UTF_8).trim();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path log = dir.resolve("connect.log");
        List<String> cmd = new ArrayList<>(List.of(java.toString(),
                // A small heap and a quick JIT: the process lives for seconds (issue 13's time budget).
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                // Every client prints its full configuration at INFO; warnings and errors stay.
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.config=warn",
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.consumer.ConsumerConfig=warn",
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.producer.ProducerConfig=warn",
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.admin.AdminClientConfig=warn",
                "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.connect.runtime.isolation=warn",
                "-cp", classpath, mainClass));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new ConnectJvm(pb.start(), log);
    }

    public Path log() {
        return log;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** The whole log (it stays small: the process runs for seconds). */
    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines of the log, for assertion messages. */
    public String logTail() {
        String s = logText();
        return "(" + log + ")\n" + (s.length() > 6000 ? s.substring(s.length() - 6000) : s);
    }

    /** Every WARN and ERROR line of the log. */
    public List<String> warnings() {
        List<String> out = new ArrayList<>();
        for (String line : logText().split("\n")) {
            if (line.contains(" WARN ") || line.contains(" ERROR ")) {
                out.add(line);
            }
        }
        return out;
    }

    /** Waits for a log line matching {@code pattern} and returns its first group (or the line). */
    public String waitForLog(Duration timeout, Pattern pattern) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Matcher m = pattern.matcher(logText());
            if (m.find()) {
                return m.groupCount() > 0 ? m.group(1) : m.group();
            }
            if (!process.isAlive()) {
                throw new AssertionError("process exited " + process.exitValue() + " before logging " + pattern
                        + "\n" + logTail());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + pattern + "\n" + logTail());
            }
            Thread.sleep(100);
        }
    }

    /** SIGTERM (Connect's shutdown hook stops the worker cleanly), then SIGKILL after 10 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        removeReaper();
    }

    /**
     * SIGKILL, for the end of a test class: everything has been asserted, and a clean stop of
     * Connect's herders and tasks takes seconds of the suite's time budget.
     */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        removeReaper();
    }

    private void removeReaper() {
        try {
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook runs anyway.
        }
    }
}
