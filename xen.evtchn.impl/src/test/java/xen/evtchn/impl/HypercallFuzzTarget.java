package xen.evtchn.impl;

import java.lang.foreign.MemorySegment;
import kvm.provider.software.SoftwareBackend;
import xen.evtchn.api.HypercallContext;
import xen.evtchn.api.abi.GuestWidth;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.api.abi.SchedOp;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.hypercall.DomainConsole;
import xen.evtchn.impl.hypercall.XenVersionInfo;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * One fuzz input run against a whole host: a guest domain with {@value #VCPUS} vCPUs (on the FIFO
 * ABI for a quarter of the inputs) and
 * {@value #RAM} bytes of RAM, and a sequence of steps read from the input: guest memory written
 * with the input's bytes, then a hypercall with the input's number, vCPU, CPL, width and
 * arguments (small numbers, guest addresses, or any 64 bits). After every step the host's
 * invariants must hold ({@link GuestDomain#selfCheck()}); an exception escaping a hypercall is a
 * failure. At the end the domain is saved, and the stream must restore on a fresh host
 * ({@link RestoreCheck}). Hypercalls that would wait (SCHEDOP_block, SCHEDOP_poll) are left out: the input
 * runs on one thread, which they would park.
 */
final class HypercallFuzzTarget {
    static final int DOMID = 3;
    static final int VCPUS = 3;
    static final int RAM = 1 << 20;
    /** Where a FIFO input's vCPU 0 control block is (its first array page follows). */
    static final long FIFO_CONTROL_GFN = 0x80;
    /** Steps per input at most: inputs stay quick. */
    static final int MAX_STEPS = 64;

    private HypercallFuzzTarget() {
    }

    /** Runs {@code input}; throws AssertionError (with the step) when an invariant breaks. */
    static void run(byte[] input) {
        Reader in = new Reader(input);
        ManualTimerProvider timers = new ManualTimerProvider(0);
        XenHost host = new XenHost(timers, (domid, reason) -> { });
        try (SoftwareBackend vcpus = new SoftwareBackend(DOMID, VCPUS, RAM, host.dispatcher())) {
            GuestDomain start = host.createDomain(DOMID, GuestWidth.X86_64, vcpus, XenVersionInfo.DEFAULT,
                    DomainConsole.inMemory()).domain();
            if (in.u8() % 4 == 0) {
                // A quarter of the inputs run on the FIFO ABI: random bytes rarely make a valid init_control.
                start.initControl(FIFO_CONTROL_GFN, 0, 0);
                start.expandArray(FIFO_CONTROL_GFN + 1);
            }
            MemorySegment ram = vcpus.memory().ram();
            for (int step = 0; step < MAX_STEPS && in.more(); step++) {
                int writes = in.u8() % 4;
                for (int w = 0; w < writes; w++) {
                    long at = in.u32() % RAM;
                    int length = (int) Math.min(in.u8() % 64, RAM - at);
                    for (int i = 0; i < length; i++) {
                        ram.set(java.lang.foreign.ValueLayout.JAVA_BYTE, at + i, (byte) in.u8());
                    }
                }
                Call call = new Call(in, ram);
                if (call.number == Hypercall.SCHED_OP && (call.args[0] == SchedOp.BLOCK || call.args[0] == SchedOp.POLL)) {
                    continue;
                }
                try {
                    host.dispatcher().hypercall(call);
                } catch (RuntimeException e) {
                    throw new AssertionError("step " + step + ": " + call + " threw", e);
                }
                timers.advanceTo(timers.now() + in.u8() * 1_000_000L);
                GuestDomain d = host.domains().guest(DOMID);
                String broken = d == null ? null : d.selfCheck();
                if (broken != null) {
                    throw new AssertionError("step " + step + ": " + call + ": " + broken);
                }
            }
            GuestDomain end = host.domains().guest(DOMID);
            if (end != null && !RestoreCheck.check(SaveStream.write(host.save(DOMID)), ram)) {
                throw new AssertionError("the domain's own save stream was refused on a fresh host");
            }
        } finally {
            host.destroyDomain(DOMID);
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
                    + java.util.Arrays.toString(args);
        }
    }
}
