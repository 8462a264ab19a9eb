package klamm;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import org.apache.kafka.common.utils.internals.Exit;

/**
 * Runs one of Kafka's command-line tools (a main class in kafka-tools) in this JVM, the way
 * Kafka's own tool tests do (ToolsTestUtils): stdin, stdout and stderr are swapped for the call and
 * {@link Exit} is trapped, so a tool that calls {@code Exit.exit(code)} ends the call, not the JVM.
 * Shutdown hooks the tool adds through {@code Exit.addShutdownHook} run when the call ends, as at
 * process exit (ConsoleProducer flushes and closes its producer only in its hook).
 * Calls are serialised: System.in/out/err are process-wide.
 */
public final class Tools {
    /** What a tool printed and how it ended. */
    public record Result(int exitCode, String out, String err) {
        public Result ok() {
            if (exitCode != 0) {
                throw new AssertionError("tool exited " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err);
            }
            return this;
        }
    }

    /** Thrown by the trapped exit procedure to unwind the tool's main. */
    private static final class ExitCalled extends RuntimeException {
        final int code;

        ExitCalled(int code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    private Tools() {}

    /** Sends a write to the capture, or to the real stream when an earlier thread makes it. */
    private static final class ByThread extends OutputStream {
        private final OutputStream capture;
        private final OutputStream real;
        private final Set<Thread> earlier;

        ByThread(OutputStream capture, OutputStream real, Set<Thread> earlier) {
            this.capture = capture;
            this.real = real;
            this.earlier = earlier;
        }

        private OutputStream target() {
            return earlier.contains(Thread.currentThread()) ? real : capture;
        }

        @Override
        public void write(int b) throws IOException {
            OutputStream t = target();
            synchronized (t) {
                t.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            OutputStream t = target();
            synchronized (t) {
                t.write(b, off, len);
            }
        }

        @Override
        public void flush() throws IOException {
            real.flush();
        }
    }

    public static Result run(String mainClass, String... args) {
        return runWithInput(mainClass, "", args);
    }

    public static synchronized Result runWithInput(String mainClass, String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        InputStream oldIn = System.in;
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        // Only this call's threads write into its capture: the caller and the threads the tool
        // starts. A client thread an earlier tool left behind (TransactionsCommand never closes its
        // Admin, which then logs reconnect warnings) keeps writing to the real streams.
        Set<Thread> earlier = new HashSet<>(Thread.getAllStackTraces().keySet());
        earlier.remove(Thread.currentThread());
        PrintStream po = new PrintStream(new ByThread(out, oldOut, earlier), true, StandardCharsets.UTF_8);
        PrintStream pe = new PrintStream(new ByThread(err, oldErr, earlier), true, StandardCharsets.UTF_8);
        // Some tools call Exit.exit inside a try that catches Throwable and then exit again with 1
        // (TopicCommand.mainNoExit): the first exit is what the process would have ended with.
        int[] firstExit = {Integer.MIN_VALUE};
        Exit.setExitProcedure((code, message) -> {
            if (firstExit[0] == Integer.MIN_VALUE) {
                firstExit[0] = code;
            }
            throw new ExitCalled(code, message);
        });
        Exit.setHaltProcedure((code, message) -> {
            if (firstExit[0] == Integer.MIN_VALUE) {
                firstExit[0] = code;
            }
            throw new ExitCalled(code, message);
        });
        // Hooks a tool registers with Exit.addShutdownHook (ConsoleProducer closes, and so flushes,
        // its producer only there) run when the call ends, as they would when the process exits.
        java.util.List<Runnable> shutdownHooks = new java.util.ArrayList<>();
        Exit.setShutdownHookAdder((name, hook) -> shutdownHooks.add(hook));
        int code = 0;
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(po);
            System.setErr(pe);
            Method main = Class.forName(mainClass).getMethod("main", String[].class);
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof ExitCalled x) {
                code = x.code;
            } else {
                code = -1;
                cause.printStackTrace(pe);
            }
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot call " + mainClass + ".main", e);
        } finally {
            for (Runnable hook : shutdownHooks) {
                try {
                    hook.run();
                } catch (RuntimeException e) {
                    e.printStackTrace(pe);
                }
            }
            po.flush();
            pe.flush();
            System.setIn(oldIn);
            System.setOut(oldOut);
            System.setErr(oldErr);
            Exit.resetExitProcedure();
            Exit.resetHaltProcedure();
            Exit.resetShutdownHookAdder();
        }
        if (firstExit[0] != Integer.MIN_VALUE) {
            code = firstExit[0];
        }
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
