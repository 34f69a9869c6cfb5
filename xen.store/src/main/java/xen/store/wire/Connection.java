package xen.store.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import xen.store.tree.Perms;
import xen.store.tree.Store;
import xen.store.tree.StoreException;
import xen.store.tree.StorePath;
import xen.store.tree.Watcher;
import xen.store.tree.XsError;

/**
 * One domain's connection to the store, as a byte stream in each direction: {@link #accept} takes
 * request bytes, {@link #produce} gives reply and watch-event bytes, in order. Every request gets a
 * well-formed reply (its own type, or XS_ERROR with the error's name); nothing is thrown out.
 *
 * <p>Memory is bounded: input is one message at most (16 + 4096 bytes) and no more is taken while
 * its reply waits to be read; watch events wait in a queue of {@code Quotas.eventQueue()} messages,
 * beyond which new events are dropped and counted ({@link #droppedEvents()}), as is an event too
 * large for a message. A header announcing
 * more than XENSTORE_PAYLOAD_MAX makes the connection broken, as xenstored ignores such a client
 * from then on: nothing more is read or answered.
 */
public final class Connection implements Watcher {
    private final Store store;
    private final int domid;
    private final byte[] in = new byte[WireMessage.HEADER + WireMessage.PAYLOAD_MAX];
    private int inUsed;
    private final ArrayDeque<byte[]> out = new ArrayDeque<>();
    private int outPos;
    private int repliesQueued;
    private int eventsQueued;
    private long droppedEvents;
    private boolean broken;
    /** Events raised while a request is answered wait for its reply: xenstored acks a watch before its first event. */
    private boolean answering;
    private final ArrayDeque<byte[]> afterReply = new ArrayDeque<>();

    /**
     * A connection's bytes in flight, as a save or a new store instance carries them: the request
     * taken in part ({@code input}, less than a whole message), the replies and events not yet
     * given (whole messages, in order; {@code outPos} bytes of the first given already), whether
     * it is broken, and the events dropped so far.
     */
    public record State(byte[] input, List<byte[]> output, int outPos, boolean broken, long droppedEvents) {
        public State {
            input = input.clone();
            output = List.copyOf(output);
        }
    }

    public Connection(Store store, int domid) {
        this.store = store;
        this.domid = domid;
    }

    /** A connection carrying on from {@code state} (checked by whoever read it: see StoreImages). */
    public Connection(Store store, int domid, State state) {
        this(store, domid);
        System.arraycopy(state.input(), 0, in, 0, state.input().length);
        inUsed = state.input().length;
        for (byte[] message : state.output()) {
            out.add(message.clone());
            if (type(message) == XsType.WATCH_EVENT) {
                eventsQueued++;
            } else {
                repliesQueued++;
            }
        }
        outPos = state.outPos();
        broken = state.broken();
        droppedEvents = state.droppedEvents();
    }

    /** The bytes in flight now, for a save (between two requests: never while one is answered). */
    public State state() {
        return new State(Arrays.copyOf(in, inUsed), List.copyOf(out), outPos, broken, droppedEvents);
    }

    /** The type of a whole encoded message. */
    public static int typeOf(byte[] message) {
        return type(message);
    }

    @Override
    public int domid() {
        return domid;
    }

    /** Whether the domain broke the protocol (an oversized message): then nothing more is read or answered. */
    public boolean broken() {
        return broken;
    }

    /** Watch events dropped: the queue was full, or the event would not fit in a message. */
    public long droppedEvents() {
        return droppedEvents;
    }

    /** Bytes this connection holds for reading and writing, for the bound's tests. */
    public int bufferedBytes() {
        int n = inUsed;
        for (byte[] b : out) {
            n += b.length;
        }
        return n;
    }

    /** How many request bytes the connection takes now: up to the end of the current message, 0 while its reply waits. */
    public int wanted() {
        if (broken || repliesQueued > 0) {
            return 0;
        }
        if (inUsed < WireMessage.HEADER) {
            return WireMessage.HEADER - inUsed;
        }
        return WireMessage.HEADER + payloadLength() - inUsed;
    }

    /**
     * Takes request bytes, at most {@link #wanted()}; a message completed is answered into the
     * output. Returns the bytes taken.
     */
    public int accept(byte[] b, int off, int len) {
        int take = Math.min(len, wanted());
        System.arraycopy(b, off, in, inUsed, take);
        inUsed += take;
        if (inUsed == WireMessage.HEADER) {
            int length = payloadLength();
            if (length < 0 || length > WireMessage.PAYLOAD_MAX) {
                close();
                return take;
            }
        }
        if (inUsed >= WireMessage.HEADER && inUsed == WireMessage.HEADER + payloadLength()) {
            WireMessage request = WireMessage.decode(Arrays.copyOf(in, inUsed));
            inUsed = 0;
            answering = true;
            WireMessage reply = answer(request);
            answering = false;
            if (!broken) {
                out.add(reply.encode());
                repliesQueued++;
                out.addAll(afterReply);
            }
            afterReply.clear();
        }
        return take;
    }

    /** Whether output waits to be read. */
    public boolean hasOutput() {
        return !out.isEmpty();
    }

    /** Gives up to {@code len} output bytes into {@code b}; returns how many. */
    public int produce(byte[] b, int off, int len) {
        int given = 0;
        while (given < len && !out.isEmpty()) {
            byte[] head = out.peek();
            int n = Math.min(len - given, head.length - outPos);
            System.arraycopy(head, outPos, b, off + given, n);
            outPos += n;
            given += n;
            if (outPos == head.length) {
                out.poll();
                outPos = 0;
                if (type(head) == XsType.WATCH_EVENT) {
                    eventsQueued--;
                } else {
                    repliesQueued--;
                }
            }
        }
        return given;
    }

    /** The connection goes: its watches and transactions with it. */
    public void close() {
        store.reset(this);
        breakConnection();
    }

    @Override
    public void event(String path, String token) {
        if (broken) {
            return;
        }
        // A long token on a short watch path can make an event for a deep path too large for the
        // wire; it cannot be delivered and is dropped like an event beyond the queue.
        boolean fits = path.length() + token.length() + 2 <= WireMessage.PAYLOAD_MAX;
        if (!fits || eventsQueued >= store.quotas().eventQueue()) {
            droppedEvents++;
            return;
        }
        byte[] event = WireMessage.of(XsType.WATCH_EVENT, 0, 0, path, token).encode();
        (answering ? afterReply : out).add(event);
        eventsQueued++;
    }

    private void breakConnection() {
        broken = true;
        inUsed = 0;
        out.clear();
        outPos = 0;
        repliesQueued = 0;
        eventsQueued = 0;
    }

    private int payloadLength() {
        return ByteBuffer.wrap(in, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static int type(byte[] message) {
        return ByteBuffer.wrap(message, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    /** The reply to one request; a refusal is an XS_ERROR reply. */
    WireMessage answer(WireMessage request) {
        try {
            byte[] reply = dispatch(request);
            if (reply.length > WireMessage.PAYLOAD_MAX) {
                return error(request, XsError.E2BIG);
            }
            return new WireMessage(request.type(), request.reqId(), request.txId(), reply);
        } catch (StoreException e) {
            return error(request, e.error());
        } catch (RuntimeException e) {
            // A fault of ours must not reach the domain's ring pump; the fuzzer asserts it never happens.
            return error(request, XsError.EIO);
        }
    }

    private static WireMessage error(WireMessage request, XsError error) {
        return WireMessage.of(XsType.ERROR, request.reqId(), request.txId(), error.name());
    }

    private byte[] dispatch(WireMessage m) {
        int tx = m.txId();
        return switch (m.type()) {
            case XsType.READ -> store.read(domid, tx, oneArg(m));
            case XsType.DIRECTORY -> strings(store.directory(domid, tx, oneArg(m)));
            case XsType.DIRECTORY_PART -> directoryPart(m);
            case XsType.GET_PERMS -> store.getPerms(domid, tx, oneArg(m)).toWire().getBytes(StandardCharsets.ISO_8859_1);
            case XsType.WRITE -> write(m);
            case XsType.MKDIR -> {
                store.mkdir(domid, tx, oneArg(m));
                yield ok();
            }
            case XsType.RM -> {
                store.rm(domid, tx, oneArg(m));
                yield ok();
            }
            case XsType.SET_PERMS -> {
                List<String> args = args(m, -1);
                if (args.size() < 2) {
                    throw new StoreException(XsError.EINVAL);
                }
                store.setPerms(domid, tx, args.get(0), Perms.parse(args.subList(1, args.size())));
                yield ok();
            }
            case XsType.WATCH, XsType.UNWATCH -> {
                List<String> args = args(m, 2);
                if (m.type() == XsType.WATCH) {
                    store.watch(this, args.get(0), args.get(1));
                } else {
                    store.unwatch(this, args.get(0), args.get(1));
                }
                yield ok();
            }
            case XsType.RESET_WATCHES -> {
                store.reset(this);
                yield ok();
            }
            case XsType.TRANSACTION_START -> {
                if (tx != 0) {
                    throw new StoreException(XsError.EBUSY);
                }
                args(m, 1);
                yield (Integer.toUnsignedString(store.startTransaction(domid)) + "\0").getBytes(StandardCharsets.ISO_8859_1);
            }
            case XsType.TRANSACTION_END -> {
                String arg = oneArg(m);
                if (!arg.equals("T") && !arg.equals("F")) {
                    throw new StoreException(XsError.EINVAL);
                }
                store.endTransaction(domid, tx, arg.equals("T"));
                yield ok();
            }
            case XsType.GET_DOMAIN_PATH -> (StorePath.home(domidArg(oneArg(m))) + "\0").getBytes(StandardCharsets.ISO_8859_1);
            // The toolstack's requests: only dom0 may send them, and the host calls the store directly instead.
            case XsType.CONTROL, XsType.INTRODUCE, XsType.RELEASE, XsType.IS_DOMAIN_INTRODUCED, XsType.RESUME,
                    XsType.SET_TARGET -> throw new StoreException(domid == Perms.PRIVILEGED ? XsError.ENOSYS : XsError.EACCES);
            default -> throw new StoreException(XsError.ENOSYS);
        };
    }

    private byte[] write(WireMessage m) {
        byte[] p = m.payload();
        int nul = 0;
        while (nul < p.length && p[nul] != 0) {
            nul++;
        }
        if (nul == p.length) {
            throw new StoreException(XsError.EINVAL);
        }
        String path = new String(p, 0, nul, StandardCharsets.ISO_8859_1);
        store.write(domid, m.txId(), path, Arrays.copyOfRange(p, nul + 1, p.length));
        return ok();
    }

    /**
     * XS_DIRECTORY_PART: "path\0offset\0" answers the node's generation, then the children's names
     * from that byte offset of the whole list, as many whole names as fit, and an empty name after
     * the last one.
     */
    private byte[] directoryPart(WireMessage m) {
        List<String> args = args(m, 2);
        int offset;
        try {
            offset = Integer.parseInt(args.get(1));
        } catch (NumberFormatException e) {
            throw new StoreException(XsError.EINVAL);
        }
        long gen = store.generation(domid, m.txId(), args.get(0));
        byte[] all = strings(store.directory(domid, m.txId(), args.get(0)));
        if (offset < 0 || offset > all.length) {
            throw new StoreException(XsError.EINVAL);
        }
        byte[] head = (gen + "\0").getBytes(StandardCharsets.ISO_8859_1);
        int room = WireMessage.PAYLOAD_MAX - head.length - 1;
        int end = offset;
        int next = offset;
        while (next < all.length) {
            int nul = next;
            while (all[nul] != 0) {
                nul++;
            }
            if (nul + 1 - offset > room) {
                break;
            }
            next = nul + 1;
            end = next;
        }
        boolean last = end == all.length;
        byte[] reply = new byte[head.length + (end - offset) + (last ? 1 : 0)];
        System.arraycopy(head, 0, reply, 0, head.length);
        System.arraycopy(all, offset, reply, head.length, end - offset);
        return reply;
    }

    /** The single NUL-terminated argument of a request (xenstored's onearg); EINVAL otherwise. */
    private static String oneArg(WireMessage m) {
        return args(m, 1).get(0);
    }

    /** Exactly {@code count} NUL-terminated strings (any number if negative); EINVAL otherwise. */
    private static List<String> args(WireMessage m, int count) {
        List<String> strings = m.strings();
        if (strings == null || (count >= 0 && strings.size() != count)) {
            throw new StoreException(XsError.EINVAL);
        }
        return strings;
    }

    private static int domidArg(String s) {
        if (s.isEmpty() || s.length() > 5 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new StoreException(XsError.EINVAL);
        }
        return Integer.parseInt(s);
    }

    private static byte[] strings(List<String> names) {
        StringBuilder s = new StringBuilder();
        for (String name : names) {
            s.append(name).append('\0');
        }
        return s.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] ok() {
        return "OK\0".getBytes(StandardCharsets.ISO_8859_1);
    }
}
