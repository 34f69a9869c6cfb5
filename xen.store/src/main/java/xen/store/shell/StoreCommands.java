package xen.store.shell;

import java.time.Duration;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;
import xen.store.control.ShutdownControl;
import xen.store.control.ShutdownControl.Outcome;
import xen.store.control.ShutdownRequest;
import xen.store.control.UnknownDomainException;

/**
 * The XenStore commands, scope xen, as xenstore-ls, -read, -write and -rm do it, as dom0, through
 * the {@link XenStore} service, and xen:shutdown, xl shutdown's and xl reboot's request through the
 * guest's control/shutdown ({@link ShutdownControl}). As the host's other xen:* commands (xen.evtchn.impl's XenCommands),
 * every command goes through {@link #_main} (a dash cannot be in a method's name), returns its text
 * for Gogo to print, and a bad argument or a refusal throws IllegalArgumentException, whose message
 * Gogo prints.
 */
@Component(service = StoreCommands.class, immediate = true, property = {
    "osgi.command.scope=xen",
    "osgi.command.function=store-ls", "osgi.command.function=store-read",
    "osgi.command.function=store-write", "osgi.command.function=store-rm",
    "osgi.command.function=shutdown"})
public final class StoreCommands {
    /** How long xen:shutdown waits for the guest's acknowledgement unless told. */
    static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(5);
    private static final String SHUTDOWN_USAGE = "shutdown [-t SECONDS] DOMID [poweroff|reboot]";

    private final XenStore store;
    private final ShutdownControl control;

    @Activate
    public StoreCommands(@Reference XenStore store) {
        this.store = store;
        this.control = new ShutdownControl(store);
    }

    /** Gogo's entry for every function of this service: {@code argv[0]} is the command's name. */
    public String _main(String... argv) {
        String command = argv.length == 0 ? "" : argv[0];
        int args = argv.length - 1;
        try {
            return switch (command) {
                case "store-ls" -> args == 0 ? list("/") : args == 1 ? list(argv[1]) : usage("store-ls [PATH]");
                case "store-read" -> args == 1 ? store.readString(argv[1]) : usage("store-read PATH");
                case "store-write" -> args == 2 ? write(argv[1], argv[2]) : usage("store-write PATH VALUE");
                case "store-rm" -> args == 1 ? rm(argv[1]) : usage("store-rm PATH");
                case "shutdown" -> shutdown(argv);
                default -> throw new IllegalArgumentException("no command xen:" + command);
            };
        } catch (XenStoreException e) {
            throw new IllegalArgumentException("xen:" + command + ": " + explain(e));
        } catch (UnknownDomainException e) {
            throw new IllegalArgumentException(e.getMessage() + " (see xen:domains)");
        }
    }

    private static String usage(String usage) {
        throw new IllegalArgumentException("usage: xen:" + usage);
    }

    /** The refusal in words, with its operation, path and Xen's name for it. */
    static String explain(XenStoreException e) {
        String words = switch (e.error()) {
            case "ENOENT" -> "no such node";
            case "EACCES" -> "permission denied";
            case "EINVAL" -> "invalid path or value";
            case "ENOSPC" -> "too large";
            default -> "refused";
        };
        return words + ": " + e.getMessage();
    }

    /**
     * {@code shutdown [-t SECONDS] DOMID [poweroff|reboot]}: the request written, the guest's
     * acknowledgement awaited up to SECONDS (default 5), and what came of it in words.
     */
    private String shutdown(String... argv) {
        int at = 1;
        Duration wait = SHUTDOWN_WAIT;
        if (argv.length > 1 && argv[1].equals("-t")) {
            if (argv.length == 2) {
                return usage(SHUTDOWN_USAGE);
            }
            wait = seconds(argv[2]);
            at = 3;
        }
        int args = argv.length - at;
        if (args < 1 || args > 2) {
            return usage(SHUTDOWN_USAGE);
        }
        int domid = domid(argv[at]);
        ShutdownRequest request = args == 2 ? ShutdownRequest.parse(argv[at + 1]) : ShutdownRequest.POWEROFF;
        return describe(control.request(domid, request, wait), wait);
    }

    static String describe(Outcome o, Duration wait) {
        String dom = "dom" + o.domid();
        return switch (o.answer()) {
            case ACKNOWLEDGED -> dom + " acknowledged " + o.request() + " (after " + o.waited().toMillis() + " ms)";
            case NOT_ACKNOWLEDGED -> dom + " did not acknowledge " + o.request() + " within " + seconds(wait)
                    + ": no PV control (its drivers do not watch control/shutdown, or not yet); the request was withdrawn";
            case DOMAIN_GONE -> dom + " was destroyed while " + o.request()
                    + " was pending (its XenStore home went, acknowledged or not)";
        };
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** A domid as xen:domains shows it, 7 or dom7; domain 0 is the host and is not asked. */
    private static int domid(String text) {
        String t = text.strip();
        String digits = t.startsWith("dom") ? t.substring(3) : t;
        try {
            int domid = Integer.parseInt(digits);
            if (domid >= 1 && domid < DomId.FIRST_RESERVED) {
                return domid;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("domid must be a number 1.." + (DomId.FIRST_RESERVED - 1)
                + ": got \"" + shorten(t) + "\"");
    }

    /** A wait in seconds, fractions allowed, above 0 and at most ShutdownControl.TIMEOUT_MAX. */
    private static Duration seconds(String text) {
        String t = text.strip();
        long max = ShutdownControl.TIMEOUT_MAX.toSeconds();
        try {
            double s = Double.parseDouble(t);
            if (s > 0 && s <= max && t.matches("[0-9]*\\.?[0-9]+")) {
                return Duration.ofNanos(Math.max(1_000_000L, Math.round(s * 1e9)));
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("-t takes seconds above 0 and at most " + max + ": got \"" + shorten(t) + "\"");
    }

    private static String shorten(String t) {
        return t.length() > 20 ? t.substring(0, 20) + "..." : t;
    }

    private String write(String path, String value) {
        store.write(path, value);
        return null;
    }

    private String rm(String path) {
        store.rm(path);
        return null;
    }

    /**
     * The tree below {@code path} as xenstore-ls prints it: each node as {@code name = "value"},
     * indented one space per level below {@code path}; a node removed while listing is left out.
     */
    String list(String path) {
        StringBuilder out = new StringBuilder();
        List<String> children = store.directory(path);
        for (String child : children) {
            list(out, join(path, child), child, 0);
        }
        return out.toString();
    }

    private void list(StringBuilder out, String path, String name, int depth) {
        String value;
        List<String> children;
        try {
            value = quote(store.read(path));
            children = store.directory(path);
        } catch (XenStoreException e) {
            if (e.error().equals("ENOENT")) {
                return; // removed meanwhile
            }
            throw e;
        }
        out.append(" ".repeat(depth)).append(name).append(" = \"").append(value).append("\"\n");
        for (String child : children) {
            list(out, join(path, child), child, depth + 1);
        }
    }

    private static String join(String parent, String child) {
        return parent.endsWith("/") ? parent + child : parent + "/" + child;
    }

    /** A value as xenstore-ls shows it: printable ASCII as is, backslash and quote escaped, the rest as \xNN. */
    static String quote(byte[] value) {
        StringBuilder s = new StringBuilder(value.length);
        for (byte b : value) {
            int c = b & 0xff;
            if (c == '\\' || c == '"') {
                s.append('\\').append((char) c);
            } else if (c >= 0x20 && c < 0x7f) {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c));
            }
        }
        return s.toString();
    }
}
