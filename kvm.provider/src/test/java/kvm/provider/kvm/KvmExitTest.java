package kvm.provider.kvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Decoding kvm_run into a typed exit, on a kvm_run-shaped segment filled at the offsets of
 * linux/kvm.h (x86-64): exit_reason @8, the exit union @32, the sync regs @304. No KVM needed.
 */
class KvmExitTest {
    private final Arena arena = Arena.ofConfined();
    /** One page, as KVM maps kvm_run (its data may follow the struct, as an IO exit's does). */
    private final MemorySegment run = arena.allocate(4096, 4096);

    @AfterEach
    void free() {
        arena.close();
    }

    private KvmExit exit(int reason) {
        run.set(ValueLayout.JAVA_INT, 8, reason);
        return KvmExit.decode(run);
    }

    @Test
    void anOutOfFourBytesWithItsDataAfterTheStruct() {
        run.set(ValueLayout.JAVA_BYTE, 32, (byte) 1); // direction: out
        run.set(ValueLayout.JAVA_BYTE, 33, (byte) 4); // size
        run.set(ValueLayout.JAVA_SHORT, 34, (short) 0xcf8); // port
        run.set(ValueLayout.JAVA_INT, 36, 1); // count
        run.set(ValueLayout.JAVA_LONG, 40, 0x1000 - 16); // data_offset
        run.set(ValueLayout.JAVA_INT, 0x1000 - 16, 0x80001234);
        KvmExit.Io io = assertInstanceOf(KvmExit.Io.class, exit(2));
        assertTrue(io.isOut());
        assertEquals(4, io.size());
        assertEquals(0xcf8, io.port());
        assertEquals(1, io.count());
        assertEquals(4, io.data().byteSize());
        assertEquals(0x80001234, io.data().get(ValueLayout.JAVA_INT, 0));
        io.data().set(ValueLayout.JAVA_INT, 0, 7);
        assertEquals(7, run.get(ValueLayout.JAVA_INT, 0x1000 - 16), "the data is kvm_run's own, not a copy");
    }

    @Test
    void aRepeatedInOfAHighPort() {
        run.set(ValueLayout.JAVA_BYTE, 32, (byte) 0);
        run.set(ValueLayout.JAVA_BYTE, 33, (byte) 2);
        run.set(ValueLayout.JAVA_SHORT, 34, (short) 0xfff0);
        run.set(ValueLayout.JAVA_INT, 36, 3);
        run.set(ValueLayout.JAVA_LONG, 40, 2048);
        KvmExit.Io io = assertInstanceOf(KvmExit.Io.class, exit(2));
        assertFalse(io.isOut());
        assertEquals(KvmExit.Io.IN, io.direction());
        assertEquals(0xfff0, io.port(), "unsigned");
        assertEquals(6, io.data().byteSize(), "size × count");
    }

    @Test
    void anMmioReadAndWrite() {
        run.set(ValueLayout.JAVA_LONG, 32, 0xfee000b0L); // phys_addr
        run.set(ValueLayout.JAVA_INT, 48, 4); // len
        run.set(ValueLayout.JAVA_BYTE, 52, (byte) 0); // is_write
        KvmExit.Mmio read = assertInstanceOf(KvmExit.Mmio.class, exit(6));
        assertEquals(0xfee000b0L, read.physAddr());
        assertFalse(read.isWrite());
        assertEquals(4, read.data().byteSize());
        read.data().fill((byte) 0xff);
        assertEquals(-1, run.get(ValueLayout.JAVA_INT, 40), "data[] at 40: what the guest reads");

        run.set(ValueLayout.JAVA_BYTE, 52, (byte) 1);
        run.set(ValueLayout.JAVA_INT, 48, 100);
        KvmExit.Mmio write = assertInstanceOf(KvmExit.Mmio.class, exit(6));
        assertTrue(write.isWrite());
        assertEquals(8, write.data().byteSize(), "a bad len is held to data[8]");
    }

    @Test
    void aDebugExitAndMsrExits() {
        run.set(ValueLayout.JAVA_INT, 32, 1); // exception
        run.set(ValueLayout.JAVA_LONG, 40, 0xffffffff81001000L); // pc
        assertEquals(new KvmExit.Debug(1, 0xffffffff81001000L), exit(4));

        run.set(ValueLayout.JAVA_INT, 40, KvmExit.MSR_REASON_FILTER); // reason
        run.set(ValueLayout.JAVA_INT, 44, 0x40000000); // index
        run.set(ValueLayout.JAVA_LONG, 48, 0x2000); // data
        assertEquals(new KvmExit.WrMsr(4, 0x40000000, 0x2000), exit(30));
        assertEquals(new KvmExit.RdMsr(4, 0x40000000), exit(29));
    }

    @Test
    void failuresCarryTheirDetail() {
        run.set(ValueLayout.JAVA_LONG, 32, 0x80000021L);
        assertEquals(new KvmExit.FailEntry(0x80000021L), exit(9));
        run.set(ValueLayout.JAVA_INT, 32, 3);
        KvmExit.InternalError internal = assertInstanceOf(KvmExit.InternalError.class, exit(17));
        assertEquals("event delivery failed", internal.describe());
        assertEquals("suberror 99", new KvmExit.InternalError(99).describe());
    }

    @Test
    void exitsWithoutDataAndUnknownOnes() {
        assertSame(KvmExit.HALT, exit(5));
        assertSame(KvmExit.IRQ_WINDOW, exit(7));
        assertSame(KvmExit.TRIPLE_FAULT, exit(8));
        assertSame(KvmExit.INTERRUPTED, exit(10));
        assertEquals("UNKNOWN", assertInstanceOf(KvmExit.Other.class, exit(0)).name());
        assertEquals("24", assertInstanceOf(KvmExit.Other.class, exit(24)).name());
    }

    @Test
    void theHeaderAndSyncRegsOffsetsAreLinuxs() {
        assertEquals(0, KvmRun.REQUEST_INTERRUPT_WINDOW);
        assertEquals(8, KvmRun.EXIT_REASON);
        assertEquals(12, KvmRun.READY_FOR_INTERRUPT_INJECTION);
        assertEquals(13, KvmRun.IF_FLAG);
        assertEquals(32, KvmRun.EXIT);
        assertEquals(32, KvmRun.MSR_ERROR);
        assertEquals(288, KvmRun.VALID_REGS);
        assertEquals(296, KvmRun.DIRTY_REGS);
        assertEquals(304, KvmRun.SYNC_REGS);
        assertEquals(448, KvmRun.SYNC_SREGS);
    }
}
