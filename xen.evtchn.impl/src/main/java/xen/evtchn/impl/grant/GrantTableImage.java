package xen.evtchn.impl.grant;

import java.util.Arrays;
import xen.evtchn.api.GuestMemory;

/**
 * A grant table as a save takes it: its version and size, where each frame is in guest memory,
 * the contents of the frames that are host memory (an extra page in a hole, or a frame not in
 * guest memory whose entries the table keeps: the VMM's copy of RAM does not carry them), and the
 * entries the host's backends had pinned. The pins themselves do not travel (Xen migrates none
 * either): a backend maps again after the restore, as it binds its ports again; the restore only
 * clears the GTF_reading/GTF_writing those pins had set, so that the guest can end those grants.
 *
 * @param version    the table's version (1)
 * @param gpfns      per frame ({@code nrFrames} of them), its guest frame or {@link GrantTable#UNMAPPED}
 * @param contents   per frame, its page if it is host memory (on an extra page where its gpfn says;
 *                   kept by the table if its gpfn is UNMAPPED), else null (in RAM, or all zero)
 * @param pinnedRefs the references pinned at the save, ascending
 */
public record GrantTableImage(int version, long[] gpfns, byte[][] contents, int[] pinnedRefs) {
    public GrantTableImage {
        if (gpfns.length < GrantTable.INITIAL_FRAMES || gpfns.length > GrantTable.MAX_FRAMES
                || contents.length != gpfns.length) {
            throw new IllegalArgumentException("a grant table of " + gpfns.length + " frames and " + contents.length
                    + " contents");
        }
        for (byte[] page : contents) {
            if (page != null && page.length != GuestMemory.PAGE_SIZE) {
                throw new IllegalArgumentException("a grant frame's contents are a page, not " + page.length + " bytes");
            }
        }
    }

    public int nrFrames() {
        return gpfns.length;
    }

    /** True if frame {@code index} is on an extra page (mapped, with its contents here). */
    public boolean onExtraPage(int index) {
        return gpfns[index] != GrantTable.UNMAPPED && contents[index] != null;
    }

    @Override
    public String toString() {
        return "GrantTableImage[version=" + version + ", gpfns=" + Arrays.toString(gpfns) + ", pinned="
                + Arrays.toString(pinnedRefs) + "]";
    }
}
