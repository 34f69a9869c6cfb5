package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.domain.XenVersionInfo;
import xen.evtchn.impl.evtchn.GuestEventChannels;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * One fuzz input run against a whole host: a guest domain with {@value #VCPUS} vCPUs (on the FIFO
 * ABI for a quarter of the inputs) and {@value #RAM} bytes of RAM, and a sequence of steps read
 * from the input: guest memory written with the input's bytes, then a hypercall with the input's
 * number, vCPU, CPL, width and arguments (small numbers, guest addresses, or any 64 bits). After
 * every step the host's invariants must hold ({@link GuestEventChannels#selfCheck()}), and no handler may
 * have thrown (the dispatcher turns that into an errno and a log line, which fails the input). At
 * the end the domain is saved, and the stream must restore on a fresh host ({@link RestoreCheck}).
 * Hypercalls that would wait (SCHEDOP_block, SCHEDOP_poll) are left out: a thread that makes them
 * would park.
 * <p>
 * {@link #runTwoVcpus} runs the input's two halves at once on two threads, as vCPUs 0 and 1 of the
 * domain, most steps well-formed event channel calls ({@link EvtchnOpInput}) so that binds, closes
 * and resets race each other; half of those inputs start crowded, with ports bound up to past
 * 2-level's limit (under FIFO) and the lower ones left queued, as a guest leaves them when a vCPU
 * goes offline.
 */
final class HypercallFuzzTarget {
    static final int DOMID = 3;
    static final int VCPUS = 3;
    static final int RAM = 1 << 20;
    /** Where a FIFO input's vCPU 0 control block is (its array pages follow). */
    static final long FIFO_CONTROL_GFN = 0x80;
    /** Steps per input (per vCPU, for two) at most: inputs stay quick. */
    static final int MAX_STEPS = 64;
    /**
     * A crowded start binds this many IPIs (half as many under 2-level); under FIFO the ones below
     * {@value #QUEUED}, 2-level's limit, get an event queued, so once closed they stay busy.
     */
    static final int CROWD = 6000;
    static final int QUEUED = 4096;
    /** Rounds of its steps a vCPU runs at most while the other has not finished its first. */
    static final int MAX_ROUNDS = 16;

    private HypercallFuzzTarget() {
    }

    /** Runs {@code input} on one thread; throws AssertionError (with the step) when an invariant breaks. */
    static void run(byte[] input) {
        Reader in = new Reader(input);
        try (Session s = new Session(in.u8() % 4 == 0, false)) {
            for (int step = 0; step < MAX_STEPS && in.more(); step++) {
                s.writeMemory(in);
                Call call = new Call(in, s.ram);
                if (s.runs(call)) {
                    s.call(call, "step " + step);
                    s.timers.advanceTo(s.timers.now() + in.u8() * 1_000_000L);
                    s.check("step " + step + ": " + call);
                }
            }
            s.finish();
        }
    }

    /**
     * Runs {@code input}'s halves at once on two threads, as vCPUs 0 and 1; the invariants are
     * checked after every step on either thread and once both are done. A vCPU that is through
     * its steps first runs them again, so that the two overlap for as long as the slower one runs.
     */
    static void runTwoVcpus(byte[] input) {
        Reader setup = new Reader(input);
        boolean fifo = setup.u8() % 4 == 0;
        boolean crowded = setup.u8() % 2 == 0;
        int start = Math.min(2, input.length); // after the two bytes read above
        int half = start + (input.length - start) / 2;
        try (Session s = new Session(fifo, crowded)) {
            AtomicReference<Throwable> vcpu1Failed = new AtomicReference<>();
            CountDownLatch firstRounds = new CountDownLatch(2);
            Thread vcpu1 = new Thread(() -> {
                try {
                    s.rounds(Arrays.copyOfRange(input, half, input.length), 1, firstRounds);
                } catch (Throwable t) {
                    vcpu1Failed.set(t);
                }
            }, "fuzz-vcpu1");
            vcpu1.start();
            AssertionError vcpu0Failed = null;
            try {
                s.rounds(Arrays.copyOfRange(input, start, half), 0, firstRounds);
            } catch (AssertionError e) {
                vcpu0Failed = e;
            }
            try {
                vcpu1.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            if (vcpu0Failed != null) {
                throw vcpu0Failed;
            }
            if (vcpu1Failed.get() != null) {
                throw new AssertionError("vCPU 1: " + vcpu1Failed.get().getMessage(), vcpu1Failed.get());
            }
            s.check("after both vCPUs");
            s.finish();
        }
    }

    /** A host with the fuzzed domain, and what the invariants read. */
    private static final class Session implements AutoCloseable {
        final ManualTimerProvider timers = new ManualTimerProvider(0);
        /** The first line the dispatcher logged for a handler that threw. */
        final AtomicReference<String> handlerThrew = new AtomicReference<>();
        final XenHost host = new XenHost(timers, (domid, reason) -> { },
                (line, cause) -> handlerThrew.compareAndSet(null, line));
        final SoftwareBackend vcpus = new SoftwareBackend(DOMID, VCPUS, RAM, host.dispatcher());
        final MemorySegment ram = vcpus.memory().ram();

        Session(boolean fifo, boolean crowded) {
            GuestEventChannels d = host.createDomain(DOMID, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT,
                    DomainConsole.inMemory()).events();
            if (fifo) {
                // Random bytes rarely make a valid init_control.
                d.initControl(FIFO_CONTROL_GFN, 0, 0);
                for (int page = 0; page < (crowded ? CROWD / 1024 + 1 : 1); page++) {
                    d.expandArray(FIFO_CONTROL_GFN + 1 + page);
                }
            }
            if (crowded) {
                int bound = 0;
                while (bound < (fifo ? CROWD : CROWD / 2) && d.bindIpi(0) > 0) {
                    bound++;
                }
                for (int port = 1; fifo && port < QUEUED; port++) {
                    d.send(port);
                }
            }
        }

        /** {@code steps} as vCPU {@code vcpu}, again while the other vCPU is in its first round. */
        void rounds(byte[] steps, int vcpu, CountDownLatch firstRounds) {
            for (int round = 0; round < MAX_ROUNDS; round++) {
                steps(new Reader(steps), vcpu);
                if (round == 0) {
                    firstRounds.countDown();
                }
                if (firstRounds.getCount() == 0) {
                    return;
                }
            }
        }

        /** Up to {@link #MAX_STEPS} steps of {@code in} as vCPU {@code vcpu}, each its own struct page. */
        void steps(Reader in, int vcpu) {
            long arg = (1 + vcpu) * 4096L;
            for (int step = 0; step < MAX_STEPS && in.more(); step++) {
                writeMemory(in);
                Call call = EvtchnOpInput.next(in, ram, arg, vcpu);
                if (call == null) {
                    call = new Call(in, ram);
                }
                if (!runs(call)) {
                    continue;
                }
                String where = "vCPU " + vcpu + " step " + step;
                call(call, where);
                if (vcpu == 0) {
                    timers.advanceTo(timers.now() + in.u8() * 1_000_000L);
                }
                check(where + ": " + call);
            }
        }

        /** Up to 3 writes of the input's bytes anywhere in guest RAM. */
        void writeMemory(Reader in) {
            int writes = in.u8() % 4;
            for (int w = 0; w < writes; w++) {
                long at = in.u32() % RAM;
                int length = (int) Math.min(in.u8() % 64, RAM - at);
                for (int i = 0; i < length; i++) {
                    ram.set(ValueLayout.JAVA_BYTE, at + i, (byte) in.u8());
                }
            }
        }

        /** False for the calls that would park the thread. */
        boolean runs(Call call) {
            return !(call.number == Hypercall.SCHED_OP && (call.args[0] == SchedOp.BLOCK || call.args[0] == SchedOp.POLL));
        }

        /** Makes {@code call}; the dispatcher must not let an exception out. */
        void call(Call call, String where) {
            try {
                host.dispatcher().hypercall(call);
            } catch (RuntimeException e) {
                throw new AssertionError(where + ": " + call + " threw", e);
            }
        }

        void check(String where) {
            String threw = handlerThrew.get();
            if (threw != null) {
                throw new AssertionError(where + ": a handler threw: " + threw);
            }
            GuestEventChannels d = host.eventChannels().guest(DOMID);
            String broken = d == null ? null : d.selfCheck();
            if (broken != null) {
                throw new AssertionError(where + ": " + broken);
            }
        }

        /** The domain's own save must restore on a fresh host. */
        void finish() {
            if (host.eventChannels().guest(DOMID) != null && !RestoreCheck.check(SaveStream.write(host.save(DOMID)), ram)) {
                throw new AssertionError("the domain's own save stream was refused on a fresh host");
            }
        }

        @Override
        public void close() {
            host.destroyDomain(DOMID);
            vcpus.close();
        }
    }

    /** The input's bytes as numbers; zeros once it is used up. */
    static final class Reader {
        private final byte[] bytes;
        private int at;

        Reader(byte[] bytes) {
            this.bytes = bytes;
        }

        boolean more() {
            return at < bytes.length;
        }

        int u8() {
            return at < bytes.length ? bytes[at++] & 0xff : 0;
        }

        long u32() {
            return (long) u8() | (long) u8() << 8 | (long) u8() << 16 | (long) u8() << 24;
        }

        long u64() {
            return u32() | u32() << 32;
        }
    }

    /** A hypercall as the input describes it, with identity-mapped guest memory. */
    static final class Call implements HypercallContext {
        final int number;
        final int vcpu;
        final int cpl;
        final boolean longMode;
        final long[] args = new long[5];
        private final MemorySegment ram;

        /** A well-formed call from {@code vcpu} at CPL 0 in 64-bit mode. */
        Call(int number, int vcpu, long[] args, MemorySegment ram) {
            this.number = number;
            this.vcpu = vcpu;
            this.cpl = 0;
            this.longMode = true;
            System.arraycopy(args, 0, this.args, 0, this.args.length);
            this.ram = ram;
        }

        Call(Reader in, MemorySegment ram) {
            this.ram = ram;
            int n = in.u8();
            number = n < 200 ? n % 42 : n; // mostly real families, sometimes any number
            vcpu = in.u8() % (VCPUS + 1) - (in.u8() == 0 ? 9 : 0); // now and then one the domain lacks
            cpl = in.u8() % 16 == 0 ? 3 : 0;
            longMode = in.u8() % 8 != 0;
            for (int i = 0; i < args.length; i++) {
                args[i] = switch (in.u8() % 4) {
                    case 0 -> in.u8() % 16; // sub-ops, ports, vCPUs
                    case 1 -> in.u32() % RAM; // somewhere in guest RAM
                    case 2 -> in.u32() % 4096; // below a page
                    default -> in.u64();
                };
                if (!longMode) {
                    args[i] &= 0xffff_ffffL;
                }
            }
        }

        @Override
        public int number() {
            return number;
        }

        @Override
        public int domid() {
            return DOMID;
        }

        @Override
        public int vcpu() {
            return vcpu;
        }

        @Override
        public boolean longMode() {
            return longMode;
        }

        @Override
        public int cpl() {
            return cpl;
        }

        @Override
        public long arg(int index) {
            return args[index];
        }

        @Override
        public MemorySegment guest(long address, long length) {
            if (address < 0 || length < 0 || address > RAM || length > RAM - address) {
                return null;
            }
            return ram.asSlice(address, length);
        }

        @Override
        public String toString() {
            return "hypercall " + number + " vcpu " + vcpu + " cpl " + cpl + (longMode ? "" : " 32-bit") + " args "
                    + Arrays.toString(args);
        }
    }
}
