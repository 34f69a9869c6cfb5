package xen.store.shell;

import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import xen.evtchn.api.store.XenStore;
import xen.evtchn.api.store.XenStoreException;

/**
 * The XenStore commands, scope xen, as xenstore-ls, -read, -write and -rm do it, as dom0, through
 * the {@link XenStore} service. As the host's other xen:* commands (xen.evtchn.impl's XenCommands),
 * every command goes through {@link #_main} (a dash cannot be in a method's name), returns its text
 * for Gogo to print, and a bad argument or a refusal throws IllegalArgumentException, whose message
 * Gogo prints.
 */
@Component(service = StoreCommands.class, immediate = true, property = {
    "osgi.command.scope=xen",
    "osgi.command.function=store-ls", "osgi.command.function=store-read",
    "osgi.command.function=store-write", "osgi.command.function=store-rm"})
public final class StoreCommands {
    private final XenStore store;

    @Activate
    public StoreCommands(@Reference XenStore store) {
        this.store = store;
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
                default -> throw new IllegalArgumentException("no command xen:" + command);
            };
        } catch (XenStoreException e) {
            throw new IllegalArgumentException("xen:" + command + ": " + explain(e));
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
