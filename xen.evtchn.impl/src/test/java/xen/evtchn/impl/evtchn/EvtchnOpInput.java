package xen.evtchn.impl.evtchn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import xen.evtchn.api.abi.Hypercall;
import xen.evtchn.impl.evtchn.HypercallFuzzTarget.Call;
import xen.evtchn.impl.evtchn.HypercallFuzzTarget.Reader;

/**
 * Well-formed event channel calls made from fuzz input, for the two-vCPU fuzzer: random bytes
 * rarely make a struct that gets past an op's first check, and races need binds, closes and resets
 * that succeed. The op and every field come from the input, mostly in range (ports a crowded
 * domain uses, vCPUs it has, DOMID_SELF), now and then anything. The struct is written at the
 * calling vCPU's own address, at the reference offsets (xen-abi.md), written out literally; one
 * input in sixteen is a soft reset (SCHEDOP_shutdown), one a raw call instead.
 */
final class EvtchnOpInput {
    private static final int SELF = 0x7FF0;
    private static final int SOFT_RESET = 14;
    /** Ports below this are the ones a crowded start binds, and a few groups more. */
    private static final int PORTS = 4608;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private EvtchnOpInput() {
    }

    /** The next call from {@code vcpu} with its struct at guest address {@code arg}, or null for a raw call. */
    static Call next(Reader in, MemorySegment ram, long arg, int vcpu) {
        int op = in.u8() % 16;
        if (op == 15) {
            return null;
        }
        MemorySegment s = ram.asSlice(arg, 24);
        s.fill((byte) 0);
        if (op == SOFT_RESET) {
            s.set(U32, 0, 5);
            return new Call(Hypercall.SCHED_OP, vcpu, new long[] {2, arg, 0, 0, 0}, ram);
        }
        switch (op) {
            case 0 -> { // bind_interdomain
                s.set(U16, 0, dom(in));
                s.set(U32, 4, port(in));
            }
            case 1 -> { // bind_virq
                s.set(U32, 0, in.u8() % 25);
                s.set(U32, 4, vcpu(in));
            }
            case 2 -> { // bind_pirq
                s.set(U32, 0, in.u8());
                s.set(U32, 4, in.u8() % 2);
            }
            case 3, 4, 9 -> s.set(U32, 0, port(in)); // close, send, unmask
            case 5 -> { // status
                s.set(U16, 0, dom(in));
                s.set(U32, 4, port(in));
            }
            case 6 -> { // alloc_unbound
                s.set(U16, 0, dom(in));
                s.set(U16, 2, dom(in));
            }
            case 7 -> s.set(U32, 0, vcpu(in)); // bind_ipi
            case 8 -> { // bind_vcpu
                s.set(U32, 0, port(in));
                s.set(U32, 4, vcpu(in));
            }
            case 10 -> s.set(U16, 0, dom(in)); // reset
            case 11 -> { // init_control: the target's control page, a vCPU's slot in it
                s.set(U64, 0, HypercallFuzzTarget.FIFO_CONTROL_GFN + (in.u8() % 8 == 0 ? in.u8() % 4 : 0));
                s.set(U32, 8, in.u8() % 8 == 0 ? in.u8() : in.u8() % 4 * 128);
                s.set(U32, 12, vcpu(in));
            }
            case 12 -> s.set(U64, 0, HypercallFuzzTarget.FIFO_CONTROL_GFN + 1 + in.u8() % 16); // expand_array
            default -> { // set_priority
                s.set(U32, 0, port(in));
                s.set(U32, 4, in.u8() % 17);
            }
        }
        return new Call(Hypercall.EVENT_CHANNEL_OP, vcpu, new long[] {op, arg, 0, 0, 0}, ram);
    }

    private static short dom(Reader in) {
        return (short) switch (in.u8() % 8) {
            case 0 -> in.u8() | in.u8() << 8;
            case 1 -> HypercallFuzzTarget.DOMID;
            default -> SELF;
        };
    }

    private static int port(Reader in) {
        return in.u8() % 8 == 0 ? (int) in.u32() : (in.u8() | in.u8() << 8) % PORTS;
    }

    private static int vcpu(Reader in) {
        return in.u8() % (HypercallFuzzTarget.VCPUS + 1);
    }
}
