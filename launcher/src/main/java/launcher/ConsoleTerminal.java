package launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The launcher's terminal on a guest's console ({@code --console}), as {@code xl console} or
 * QEMU's {@code -serial mon:stdio}: everything the guest prints goes to standard output as it is,
 * and what is typed goes to the guest. On a terminal, input is read raw (no line editing, no
 * signals: Ctrl-C is the guest's) and Ctrl-A is a prefix: Ctrl-A c switches between the guest's
 * console and the host's Gogo shell, Ctrl-A a sends a Ctrl-A, Ctrl-A x stops the host, Ctrl-A h
 * says so. Without a terminal, standard input is the guest's console input.
 * <p>
 * The launcher cannot load the bundles' classes: the domain's console is reached through the
 * api's interfaces, loaded from the bundle that registered the domain, by reflection.
 */
final class ConsoleTerminal implements AutoCloseable {
    static final int PREFIX = 0x01; // Ctrl-A
    static final String HELP = "Ctrl-A c: switch between dom1's console and the host's shell; Ctrl-A a: send Ctrl-A;"
            + " Ctrl-A x: stop the host; Ctrl-A h: this help";

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Runnable quit;
    private final Stty stty;
    /** The Gogo shell's standard input, or null if there is no shell. */
    private final PipedOutputStream shell;
    private final StringBuilder line = new StringBuilder();
    private volatile boolean toGuest = true;
    private Object console;
    private Method type;
    private AutoCloseable attached;
    private boolean prefixed;
    private boolean closed;

    /**
     * A terminal for {@code in} and {@code out}. With {@code withShell}, the Gogo shell's input
     * becomes a pipe this terminal feeds (System.in is replaced: call it before the shell starts).
     * On a terminal ({@code stty} not null) input is switched to raw mode until {@link #close()}.
     */
    ConsoleTerminal(InputStream in, PrintStream out, PrintStream err, Stty stty, boolean withShell, Runnable quit)
            throws IOException {
        this.in = in;
        this.out = out;
        this.err = err;
        this.stty = stty;
        this.quit = quit;
        if (withShell) {
            PipedInputStream shellIn = new PipedInputStream(4096);
            shell = new PipedOutputStream(shellIn);
            System.setIn(shellIn);
        } else {
            shell = null;
        }
        if (stty != null) {
            stty.raw();
        }
    }

    /**
     * Attaches to the console of the domain registered as {@code domain}: its output so far, then
     * as it comes, on standard output; a daemon thread reads the input.
     */
    void attach(BundleContext context, ServiceReference<?> domain) throws ReflectiveOperationException {
        Object handle = context.getService(domain);
        if (handle == null) {
            throw new IllegalStateException("dom1's service went away");
        }
        ClassLoader api = domain.getBundle().adapt(org.osgi.framework.wiring.BundleWiring.class).getClassLoader();
        Class<?> domainHandle = Class.forName("xen.evtchn.api.host.DomainHandle", false, api);
        Class<?> guestConsole = Class.forName("xen.evtchn.api.host.GuestConsole", false, api);
        console = domainHandle.getMethod("console").invoke(handle);
        type = guestConsole.getMethod("type", byte[].class, int.class, int.class);
        OutputStream raw = new OutputStream() { // the console must not close standard output
            @Override
            public void write(int b) {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                out.write(b, off, len);
            }

            @Override
            public void flush() {
                out.flush();
            }
        };
        attached = (AutoCloseable) guestConsole.getMethod("attach", OutputStream.class).invoke(console, raw);
        if (stty != null) {
            status("dom1's console; " + HELP);
        }
        Thread.ofPlatform().name("console-input").daemon(true).start(this::read);
    }

    private void read() {
        byte[] buffer = new byte[256];
        try {
            int n;
            while ((n = in.read(buffer)) > 0) {
                for (int i = 0; i < n; i++) {
                    take(buffer[i] & 0xff);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                err.println("launcher: console input: " + e);
            }
        }
    }

    /** One byte from the terminal. */
    void take(int b) throws IOException {
        if (stty != null && prefixed) {
            prefixed = false;
            switch (b) {
                case 'c', 'C' -> switchTarget();
                case 'x', 'X' -> {
                    status("stopping the host");
                    quit.run();
                }
                case 'a', 'A', PREFIX -> forward(PREFIX);
                default -> status(HELP);
            }
        } else if (stty != null && b == PREFIX) {
            prefixed = true;
        } else {
            forward(b);
        }
    }

    private void switchTarget() {
        if (shell == null) {
            status("there is no host shell (--no-shell)");
            return;
        }
        toGuest = !toGuest;
        status(toGuest ? "dom1's console (Ctrl-A c: the host's shell)" : "the host's Gogo shell (Ctrl-A c: dom1's console)");
        if (!toGuest) {
            toShell("\n"); // a fresh prompt
        }
    }

    private void forward(int b) throws IOException {
        if (toGuest) {
            typeToGuest(b);
        } else {
            edit(b);
        }
    }

    /** Types one byte for the guest, waiting while its input queue is full. */
    private void typeToGuest(int b) {
        byte[] one = {(byte) b};
        try {
            while ((int) type.invoke(console, one, 0, 1) == 0) {
                TimeUnit.MILLISECONDS.sleep(5);
            }
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException("dom1's console refused input: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The shell's line, edited here since the terminal is raw: echo, backspace, Ctrl-U, Enter, Ctrl-D. */
    private void edit(int b) {
        switch (b) {
            case '\r', '\n' -> {
                out.print("\r\n");
                toShell(line + "\n");
                line.setLength(0);
            }
            case 0x7f, 0x08 -> {
                if (!line.isEmpty()) {
                    line.setLength(line.length() - 1);
                    out.print("\b \b");
                }
            }
            case 0x15 -> {
                out.print("\b \b".repeat(line.length()));
                line.setLength(0);
            }
            case 0x04 -> {
                if (line.isEmpty()) {
                    toShell("exit 0\n");
                }
            }
            default -> {
                if (b >= 0x20 && b < 0x7f) {
                    line.append((char) b);
                    out.print((char) b);
                }
            }
        }
        out.flush();
    }

    private void toShell(String text) {
        try {
            shell.write(text.getBytes(StandardCharsets.US_ASCII));
            shell.flush();
        } catch (IOException e) {
            status("the host's shell is gone: " + e.getMessage());
        }
    }

    private void status(String message) {
        out.print("\r\n[launcher: " + message + "]\r\n");
        out.flush();
    }

    /** Detaches from the console and gives the terminal its settings back. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (attached != null) {
            try {
                attached.close();
            } catch (Exception e) {
                // the domain is gone already
            }
        }
        if (stty != null) {
            stty.restore();
        }
    }

    /** The terminal's settings through stty(1) on /dev/tty: raw input for the guest, then back. */
    static final class Stty {
        private String saved;

        /** The terminal, or null if standard input is not one (or stty is missing). */
        static Stty ofTerminal() {
            Stty s = new Stty();
            try {
                s.saved = s.run("-g").strip();
                return s.saved.isEmpty() ? null : s;
            } catch (IOException e) {
                return null;
            }
        }

        /** No line editing, echo, signals or flow control; output still turns \n into \r\n. */
        void raw() throws IOException {
            run("-icanon", "-echo", "-isig", "-ixon", "-icrnl", "-iexten", "min", "1", "time", "0");
        }

        void restore() {
            try {
                run(saved);
            } catch (IOException e) {
                // nothing more can be done: the shell's "stty sane" helps
            }
        }

        private String run(String... args) throws IOException {
            String[] command = new String[args.length + 1];
            command[0] = "stty";
            System.arraycopy(args, 0, command, 1, args.length);
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                if (p.waitFor() != 0) {
                    throw new IOException("stty " + String.join(" ", args) + " failed");
                }
                return output;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }
}
