package xen.store.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import xen.evtchn.api.backend.ForeignMemory;
import xen.evtchn.api.host.DomainHandle;
import xen.store.wire.WireMessage;
import xen.store.wire.XsType;

/**
 * The guest's side of PV control, as Linux's drivers/xen/manage.c has it, over a {@link RingGuest}:
 * it watches control/shutdown and, on each event, reads the node in a transaction; a request it
 * knows it acknowledges by writing the empty string back in that transaction (again on EAGAIN),
 * and from then on ignores further requests, as Linux's shutting_down does; an empty node or one
 * it does not know it leaves alone. Its own thread, from {@link #start} to {@link #close}.
 */
public final class ControlGuest implements AutoCloseable {
    /** The commands manage.c's shutdown_handlers know (suspend only with CONFIG_HIBERNATE_CALLBACKS). */
    static final Set<String> KNOWN = Set.of("poweroff", "halt", "reboot", "suspend");

    private final RingGuest ring;
    private final Thread thread;
    private final List<String> taken = new CopyOnWriteArrayList<>();
    private final List<String> ignored = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private volatile Throwable failure;
    private boolean shuttingDown;

    private ControlGuest(RingGuest ring) {
        this.ring = ring;
        this.thread = Thread.ofPlatform().name("control-guest-" + ring.domain.domid()).daemon(true).unstarted(this::run);
    }

    /** The watch registered (its reply read, so it is in place on return), then the thread started. */
    public static ControlGuest start(ForeignMemory memory, DomainHandle domain) throws InterruptedException {
        ControlGuest g = new ControlGuest(new RingGuest(memory, domain));
        WireMessage ok = g.ring.call(XsType.WATCH, "control/shutdown", "shutdown");
        if (ok.type() != XsType.WATCH) {
            throw new AssertionError("the watch was refused: " + ok.text());
        }
        g.thread.start();
        return g;
    }

    /** The requests acknowledged, in order. */
    public List<String> taken() {
        return List.copyOf(taken);
    }

    /** The values seen and left alone: unknown, or after a request was taken. */
    public List<String> ignored() {
        return List.copyOf(ignored);
    }

    private void run() {
        try {
            while (!closed) {
                List<WireMessage> got = new ArrayList<>(ring.events);
                ring.events.clear();
                got.addAll(ring.drain());
                if (got.stream().anyMatch(m -> m.type() == XsType.WATCH_EVENT)) {
                    shutdownHandler(); // one read answers every event so far
                } else {
                    Thread.sleep(1);
                }
            }
        } catch (InterruptedException e) {
            // closed
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** manage.c's shutdown_handler. */
    private void shutdownHandler() throws InterruptedException {
        while (true) {
            WireMessage start = ring.call(XsType.TRANSACTION_START, "");
            int tx = Integer.parseInt(start.strings().get(0));
            WireMessage read = ring.callIn(tx, XsType.READ, "control/shutdown");
            String value = read.type() == XsType.READ ? read.text() : "";
            if (value.isEmpty()) { // read errors and empty reads are ignored
                ring.callIn(tx, XsType.TRANSACTION_END, "F");
                return;
            }
            boolean take = !shuttingDown && KNOWN.contains(value);
            if (take) {
                ring.callIn(tx, XsType.WRITE, "control/shutdown", "");
            }
            WireMessage end = ring.callIn(tx, XsType.TRANSACTION_END, "T");
            if (end.type() == XsType.ERROR && end.text().startsWith("EAGAIN")) {
                continue;
            }
            if (take) {
                shuttingDown = true; // Linux now powers off or reboots (SCHEDOP_shutdown)
                taken.add(value);
            } else {
                ignored.add(value);
            }
            return;
        }
    }

    /** Stops the thread; a failure of its own (a refused request, no reply) is thrown here. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(30_000);
        if (failure != null) {
            throw new AssertionError("the control guest failed", failure);
        }
    }
}
