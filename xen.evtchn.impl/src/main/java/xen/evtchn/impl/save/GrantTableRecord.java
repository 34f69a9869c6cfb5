package xen.evtchn.impl.save;

import xen.evtchn.api.GuestMemory;
import xen.evtchn.api.abi.GrantEntry;
import xen.evtchn.impl.grant.GrantTable;
import xen.evtchn.impl.grant.GrantTableImage;

/**
 * The grant table, when it is not a new domain's: version, frames, where each is (a guest frame
 * + 1, 0: not in guest memory), the pages that are host memory, and the references pinned at
 * the save (their pins do not travel; see {@link GrantTableImage}).
 */
final class GrantTableRecord {
    private GrantTableRecord() {
    }

    static boolean applies(DomainImage image) {
        return image.grants() != null;
    }

    static void write(StreamWriter w, DomainImage image) {
        GrantTableImage g = image.grants();
        w.u8(g.version());
        w.varint(g.nrFrames());
        for (int i = 0; i < g.nrFrames(); i++) {
            w.varint(g.gpfns()[i] + 1);
            byte[] contents = g.contents()[i];
            w.u8(contents == null ? 0 : 1);
            if (contents != null) {
                w.bytes(contents);
            }
        }
        w.varint(g.pinnedRefs().length);
        for (int ref : g.pinnedRefs()) {
            w.varint(ref);
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        int at = r.position();
        int version = r.u8("grant table version");
        if (version != GrantTable.VERSION) {
            throw r.bad(at, "grant table version " + version + "; this host has version " + GrantTable.VERSION + " only");
        }
        int frames = r.varint32("grant table frame count", GrantTable.INITIAL_FRAMES, GrantTable.MAX_FRAMES);
        long[] gpfns = new long[frames];
        byte[][] contents = new byte[frames][];
        for (int i = 0; i < frames; i++) {
            r.about("grant table frame ", i);
            at = r.position();
            gpfns[i] = r.varint("guest frame + 1", Long.MAX_VALUE / GuestMemory.PAGE_SIZE + 1) - 1;
            for (int j = 0; j < i; j++) {
                if (gpfns[i] != GrantTable.UNMAPPED && gpfns[j] == gpfns[i]) {
                    throw r.bad(at, "grant table frames " + j + " and " + i + " are both at guest frame 0x"
                            + Long.toHexString(gpfns[i]));
                }
            }
            at = r.position();
            int flag = r.u8("contents flag");
            if (flag > 1) {
                throw r.bad(at, "grant table frame " + i + "'s contents flag is 0 or 1, not " + flag);
            }
            if (flag == 1) {
                contents[i] = r.bytes(GuestMemory.PAGE_SIZE, "contents");
            }
        }
        r.aboutNothing();
        int entries = frames * GrantEntry.PER_FRAME;
        int[] pinned = new int[r.varint32("pinned grant count", entries)];
        for (int i = 0; i < pinned.length; i++) {
            at = r.position();
            pinned[i] = r.varint32("pinned grant reference", entries - 1);
            if (i > 0 && pinned[i] <= pinned[i - 1]) {
                throw r.bad(at, "pinned grant reference " + pinned[i] + " is out of order or repeated");
            }
        }
        parts.grants = new GrantTableImage(version, gpfns, contents, pinned);
    }
}
