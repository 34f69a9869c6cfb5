package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import kvm.provider.software.SoftwareBackend;
import org.junit.jupiter.api.Test;
import xen.evtchn.impl.host.XenHost;
import xen.evtchn.impl.console.DomainConsole;
import xen.evtchn.impl.save.DomainImage;
import xen.evtchn.impl.save.ImageText;
import xen.evtchn.impl.save.OldStreams;
import xen.evtchn.impl.save.SaveStream;
import xen.evtchn.impl.time.ManualTimerProvider;

/**
 * Streams of format versions 1 and 2, written by the host before version 3 (test resources
 * save-streams/*.hex, made by this class's writeGolden in commit 7cc8e72), still read to the
 * image they were written from (save-streams/*.image.txt, {@link ImageText} of what that host read
 * back), restore whole, and save again as version 3 with the same image:
 * <ul>
 * <li>v1-every-kind: a 64-bit 2-level domain with every kind of port, two named backends (one
 * with an event it had not taken), a callback, a vCPU's own vector, vcpu_info, timers;
 * <li>v1-x86_32-unmapped: a 32-bit domain that never mapped shared_info (the page travels),
 * reset from FIFO with 1536 valid ports, beyond 2-level's 1024;
 * <li>v2-fifo: a FIFO domain with a priority, queued and masked events, a tail that moved to
 * another queue and an event raised before its page.
 * </ul>
 */
class OldSaveStreamsTest {
    record Old(String name, int version, int domid) {
    }

    static final List<Old> OLD = List.of(new Old("v1-every-kind", 1, 2), new Old("v1-x86_32-unmapped", 1, 3),
            new Old("v2-fifo", 2, 5));

    @Test
    void oldStreamsReadToTheImagesTheyWereWrittenFrom() {
        for (Old old : OLD) {
            byte[] stream = OldStreams.stream(old.name());
            assertEquals(old.version(), stream[8], old.name() + ": the format version it was written in");
            assertEquals(OldStreams.resource(old.name() + ".image.txt"), ImageText.of(SaveStream.read(stream)), old.name());
        }
    }

    @Test
    void oldStreamsRestoreWhole() {
        for (Old old : OLD) {
            assertTrue(RestoreCheck.check(OldStreams.stream(old.name()), null), old.name());
        }
    }

    @Test
    void anOldStreamRestoredSavesAsVersionThreeWithTheSameImage() {
        for (Old old : OLD) {
            String expected = OldStreams.resource(old.name() + ".image.txt");
            DomainImage image = SaveStream.read(OldStreams.stream(old.name()));
            byte[] rewritten = SaveStream.write(image);
            assertEquals(SaveStream.VERSION_RECORDS, rewritten[8]);
            assertEquals(expected, ImageText.of(SaveStream.read(rewritten)), old.name() + " written again");

            XenHost host = new XenHost(new ManualTimerProvider(0), (d, r) -> { });
            try (SoftwareBackend backend = new SoftwareBackend(old.domid(), image.vcpus(), RestoreCheck.RAM, host.dispatcher())) {
                host.restoreDomain(old.domid(), image, backend, DomainConsole.inMemory());
                byte[] saved = SaveStream.write(host.save(old.domid()));
                assertEquals(SaveStream.VERSION_RECORDS, saved[8]);
                assertEquals(withoutTime(expected), withoutTime(ImageText.of(SaveStream.read(saved))),
                        old.name() + " restored and saved again");
            }
        }
    }

    /**
     * The text without what the restore made anew: the guest's system time, which ran on a little
     * before the save, and an unmapped shared_info page's checksum (its vcpu_time_info is written
     * for the new host's TSC).
     */
    private static String withoutTime(String text) {
        return text.replaceFirst("system time \\d+", "system time ...").replaceFirst("CRC32C \\p{XDigit}+", "CRC32C ...");
    }
}
