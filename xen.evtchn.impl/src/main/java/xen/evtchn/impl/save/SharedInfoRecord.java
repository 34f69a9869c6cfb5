package xen.evtchn.impl.save;

import xen.evtchn.api.GuestMemory;
import xen.evtchn.impl.evtchn.EventChannelImage;

/** Where shared_info is (a guest frame + 1), or 0 and the page itself if the guest never mapped it (it is then the hypervisor's). */
final class SharedInfoRecord {
    private SharedInfoRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        EventChannelImage ev = image.events().domain();
        w.varint(ev.sharedInfoGfn() + 1);
        if (ev.sharedInfoPage() != null) {
            w.bytes(ev.sharedInfoPage());
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        parts.sharedInfoGfn = r.varint("shared_info frame", Long.MAX_VALUE / GuestMemory.PAGE_SIZE + 1) - 1;
        parts.sharedInfoPage = parts.sharedInfoGfn == EventChannelImage.NOWHERE
                ? r.bytes((int) parts.width.sharedInfo().size(), "the unmapped shared_info page") : null;
    }
}
