package xen.evtchn.impl.save;

import xen.evtchn.api.abi.DomId;
import xen.evtchn.api.abi.GuestWidth;

/** The domain: its domid at the save, width, vCPU count, the Xen version it was told, its system time at the save. */
final class DomainRecord {
    private static final int WIDTH_X86_64 = 1;
    private static final int WIDTH_X86_32 = 2;

    private DomainRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        w.varint(image.domid());
        w.u8(image.width() == GuestWidth.X86_64 ? WIDTH_X86_64 : WIDTH_X86_32);
        w.varint(image.vcpus());
        w.varint(image.xenMajor());
        w.varint(image.xenMinor());
        w.varint(image.systemTime());
    }

    static void read(StreamReader r, ImageParts parts) {
        parts.domid = r.varint32("domid", 1, DomId.FIRST_RESERVED - 1);
        int at = r.position();
        parts.width = switch (r.u8("width")) {
            case WIDTH_X86_64 -> GuestWidth.X86_64;
            case WIDTH_X86_32 -> GuestWidth.X86_32;
            default -> throw r.bad(at, "width is neither 1 (x86_64) nor 2 (x86_32)");
        };
        parts.vcpus = r.varint32("vCPU count", 1, 0xFFFF);
        parts.xenMajor = r.varint32("Xen major version", 0x7FFF);
        parts.xenMinor = r.varint32("Xen minor version", 0xFFFF);
        parts.systemTime = r.varint("system time", Long.MAX_VALUE);
    }
}
