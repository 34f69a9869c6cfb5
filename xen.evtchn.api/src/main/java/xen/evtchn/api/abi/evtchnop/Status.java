package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u16;
import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;
import xen.evtchn.api.abi.EvtchnStat;

/**
 * evtchn_status: 0 dom u16, 4 port u32; out: 8 status u32, 12 vcpu u32, 16 a union whose meaning
 * follows status: unbound.dom u16 @16; interdomain.dom u16 @16 and .port u32 @20; pirq u32 @16;
 * virq u32 @16. {@code unionA} is the u32 at 16 (its low 16 bits for the domid members),
 * {@code unionB} the u32 at 20.
 */
public record Status(int dom, int port, int status, int vcpu, int unionA, int unionB) {
    public static final int DOM = 0;
    public static final int PORT = 4;
    public static final int STATUS = 8;
    public static final int VCPU = 12;
    public static final int UNION_A = 16;
    public static final int UNION_B = 20;

    public static Status read(MemorySegment s) {
        return new Status(u16(s, DOM), u32(s, PORT), u32(s, STATUS), u32(s, VCPU), u32(s, UNION_A),
                u32(s, UNION_B));
    }

    /** Writes every field, the whole union included (as a guest fills the struct). */
    public void write(MemorySegment s) {
        u16(s, DOM, dom);
        u32(s, PORT, port);
        u32(s, STATUS, status);
        u32(s, VCPU, vcpu);
        u32(s, UNION_A, unionA);
        u32(s, UNION_B, unionB);
    }

    /**
     * Writes the out fields as Xen does: status, vcpu and only the union member that the status
     * selects; the union's other bytes keep what the guest put there.
     */
    public static void writeOut(MemorySegment s, int status, int vcpu, int unionA, int unionB) {
        u32(s, STATUS, status);
        u32(s, VCPU, vcpu);
        switch (status) {
            case EvtchnStat.UNBOUND -> u16(s, UNION_A, unionA);
            case EvtchnStat.INTERDOMAIN -> {
                u16(s, UNION_A, unionA);
                u32(s, UNION_B, unionB);
            }
            case EvtchnStat.PIRQ, EvtchnStat.VIRQ -> u32(s, UNION_A, unionA);
            default -> {
            }
        }
    }

    /** The domid member of the unbound and interdomain cases. */
    public int remoteDom() {
        return unionA & 0xFFFF;
    }
}
