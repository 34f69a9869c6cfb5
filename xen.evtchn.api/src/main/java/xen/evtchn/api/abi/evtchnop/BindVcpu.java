package xen.evtchn.api.abi.evtchnop;

import static xen.evtchn.api.abi.GuestField.u32;

import java.lang.foreign.MemorySegment;

/** evtchn_bind_vcpu: 0 port u32, 4 vcpu u32. */
public record BindVcpu(int port, int vcpu) {
    public static final int PORT = 0;
    public static final int VCPU = 4;

    public static BindVcpu read(MemorySegment s) {
        return new BindVcpu(u32(s, PORT), u32(s, VCPU));
    }

    public void write(MemorySegment s) {
        u32(s, PORT, port);
        u32(s, VCPU, vcpu);
    }
}
