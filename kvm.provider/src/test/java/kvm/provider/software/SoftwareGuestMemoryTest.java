package kvm.provider.software;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.GuestMemory;

class SoftwareGuestMemoryTest {
    private static final long SIZE = 16 * GuestMemory.PAGE_SIZE;

    @Test
    void ramIsNativeZeroedPageAlignedAndTheSizeAsked() {
        try (SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE)) {
            MemorySegment ram = mem.ram();
            assertTrue(ram.isNative());
            assertEquals(SIZE, ram.byteSize());
            assertEquals(SIZE, mem.size());
            assertEquals(0, ram.address() % GuestMemory.PAGE_SIZE);
            assertEquals(-1L, ram.mismatch(MemorySegment.ofArray(new byte[(int) SIZE])));
        }
    }

    @Test
    void sliceInsideRamIsAViewAndOutsideIsNull() {
        try (SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE)) {
            MemorySegment last = mem.slice(SIZE - 8, 8);
            assertNotNull(last);
            last.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, mem.ram().get(ValueLayout.JAVA_LONG_UNALIGNED, SIZE - 8));
            assertEquals(0, mem.slice(SIZE, 0).byteSize());
            assertNull(mem.slice(SIZE - 8, 9));
            assertNull(mem.slice(SIZE, 1));
            assertNull(mem.slice(-1, 1));
            assertNull(mem.slice(8, -1));
            assertNull(mem.slice(Long.MAX_VALUE, Long.MAX_VALUE));
            assertNotNull(mem.page(15));
            assertNull(mem.page(16));
            assertNull(mem.page(Long.MAX_VALUE));
        }
    }

    @Test
    void anExtraPageOutsideRamIsZeroedSeenByPageAndSliceAndGoneWhenUnmapped() {
        try (SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE)) {
            long gfn = 0x8000;
            MemorySegment page = mem.mapExtraPage(gfn);
            assertNotNull(page);
            assertEquals(GuestMemory.PAGE_SIZE, page.byteSize());
            assertEquals(-1L, page.mismatch(MemorySegment.ofArray(new byte[GuestMemory.PAGE_SIZE])), "zeroed");
            page.set(ValueLayout.JAVA_LONG, 8, 0x5555L);
            assertEquals(0x5555L, mem.page(gfn).get(ValueLayout.JAVA_LONG, 8));
            assertEquals(0x5555L, mem.slice(gfn * GuestMemory.PAGE_SIZE + 8, 8).get(ValueLayout.JAVA_LONG, 0));
            assertNull(mem.slice(gfn * GuestMemory.PAGE_SIZE + 8, GuestMemory.PAGE_SIZE), "no range beyond the page");
            assertNull(mem.page(gfn + 1));
            assertNull(mem.mapExtraPage(gfn), "already there");
            assertTrue(mem.unmapExtraPage(gfn));
            assertNull(mem.page(gfn));
            assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_LONG, 8), "freed");
            assertFalse(mem.unmapExtraPage(gfn));
        }
    }

    @Test
    void extraPagesInRamOrBeyondThePhysicalAddressWidthAreRefused() {
        try (SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE)) {
            assertNull(mem.mapExtraPage(0));
            assertNull(mem.mapExtraPage(SIZE / GuestMemory.PAGE_SIZE - 1));
            assertNull(mem.mapExtraPage(-1));
            assertNull(mem.mapExtraPage(1L << (SoftwareGuestMemory.PHYS_BITS - 12)));
            assertNotNull(mem.mapExtraPage(SIZE / GuestMemory.PAGE_SIZE), "right above RAM");
        }
    }

    @Test
    void closeFreesTheExtraPages() {
        SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE);
        MemorySegment page = mem.mapExtraPage(0x100);
        mem.close();
        assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_BYTE, 0));
        assertNull(mem.extraPage(0x100));
        assertNull(mem.mapExtraPage(0x101), "closed");
    }

    @Test
    void refusesBadSizesWithTheValueInTheMessage() {
        for (long bad : new long[] {0, -4096, 4095, 4097, SoftwareGuestMemory.MAX_BYTES + 4096}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new SoftwareGuestMemory(bad));
            assertTrue(e.getMessage().contains("got " + bad), e.getMessage());
        }
    }

    @Test
    void closeFreesRamAndLaterAccessThrows() {
        SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE);
        MemorySegment page = mem.page(0);
        mem.close();
        mem.close();
        assertFalse(mem.ram().scope().isAlive());
        assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_BYTE, 0));
    }
    /**
     * A backend's file I/O straight on guest memory (xen.block's reads and writes) holds it for the
     * length of the system call: freeing the memory (domain destroyed, an extra page unmapped by
     * the guest) waits for the I/O instead of failing, then frees it. A pipe that nobody reads
     * holds the write until the test drains it.
     */
    @Test
    void closingWaitsForAnIoOnGuestMemoryThenFreesIt() throws Exception {
        SoftwareGuestMemory mem = new SoftwareGuestMemory(SIZE);
        MemorySegment extra = mem.mapExtraPage(SIZE / GuestMemory.PAGE_SIZE + 1);
        java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
        java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                pipe.sink().write(new java.nio.ByteBuffer[] {mem.ram().asByteBuffer(), extra.asByteBuffer()});
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        Thread.sleep(200); // the pipe (64 KiB) is full: the write, blocked, holds both arenas
        assertTrue(writer.isAlive(), "the write waits for a reader");
        Thread unmapper = Thread.ofPlatform().start(() -> mem.unmapExtraPage(SIZE / GuestMemory.PAGE_SIZE + 1));
        Thread closer = Thread.ofPlatform().start(mem::close);
        Thread.sleep(100);
        assertTrue(unmapper.isAlive() && closer.isAlive(), "both wait for the I/O rather than fail");
        java.nio.ByteBuffer sink = java.nio.ByteBuffer.allocate(64 << 10);
        long read = 0;
        while (read < SIZE + GuestMemory.PAGE_SIZE) {
            read += pipe.source().read(sink.clear());
        }
        writer.join();
        unmapper.join();
        closer.join();
        assertNull(failed.get());
        assertThrows(IllegalStateException.class, () -> mem.ram().get(ValueLayout.JAVA_BYTE, 0), "RAM freed");
        assertThrows(IllegalStateException.class, () -> extra.get(ValueLayout.JAVA_BYTE, 0), "the extra page freed");
    }
}
