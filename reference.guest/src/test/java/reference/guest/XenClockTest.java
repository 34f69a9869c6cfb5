package reference.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.GuestField;
import xen.evtchn.api.abi.VcpuTimeInfo;

class XenClockTest {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment time = arena.allocate(VcpuTimeInfo.SIZE, 8);

    @AfterEach
    void close() {
        arena.close();
    }

    @Test
    void oneGigahertzTscCountsNanoseconds() {
        // 1e9 / 1e9 = 1 = 0.5 * 2^1: mul 2^31, shift 1 (what Xen and this project's PvClock choose)
        assertEquals(123_456_789L, VcpuTimeInfo.scale(123_456_789L, 0x8000_0000, 1));
    }

    @Test
    void negativeShiftShiftsRight() {
        assertEquals(250, VcpuTimeInfo.scale(1000, 0x8000_0000, -1)); // (1000 >> 1) * 0.5
        assertEquals(250, VcpuTimeInfo.scale(1001, 0x8000_0000, -1)); // the shift drops the low bit first
        // A 3 GHz TSC: 1/3 = (2/3) * 2^-1, mul 0xAAAAAAAA: three billion ticks are one second, less the rounding.
        assertEquals(999_999_999L, VcpuTimeInfo.scale(3_000_000_000L, 0xAAAA_AAAA, -1));
    }

    @Test
    void productKeepsAll96Bits() {
        // 2^44 * (2^32 - 1) overflows 64 bits; the high part must survive the >> 32.
        assertEquals((1L << 44) - (1L << 12), VcpuTimeInfo.scale(1L << 40, 0xFFFF_FFFF, 4));
    }

    @Test
    void scaleMatchesBigIntegerArithmetic() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            long delta = r.nextLong(1L << 50);
            int mul = r.nextInt();
            int shift = r.nextInt(-8, 9);
            BigInteger d = BigInteger.valueOf(shift >= 0 ? delta << shift : delta >>> -shift);
            BigInteger m = BigInteger.valueOf(Integer.toUnsignedLong(mul));
            long expected = d.multiply(m).shiftRight(32).longValue();
            assertEquals(expected, VcpuTimeInfo.scale(delta, mul, shift), () -> delta + " " + mul + " " + shift);
        }
    }

    @Test
    void nowIsSystemTimePlusScaledTscDelta() {
        write(2, 1_000, 5_000, 0x8000_0000, 1);
        assertEquals(5_500, new XenClock(time, () -> 1_500).now());
        write(4, 1_000, 5_000, 0x8000_0000, -1); // a negative tsc_shift is read as a signed byte
        assertEquals(5_125, new XenClock(time, () -> 1_500).now());
    }

    @Test
    void readsAgainWhenTheVersionChangedMeanwhile() {
        write(2, 0, 1_000, 0x8000_0000, 1);
        AtomicInteger reads = new AtomicInteger();
        XenClock clock = new XenClock(time, () -> {
            if (reads.getAndIncrement() == 0) {
                write(4, 0, 9_000, 0x8000_0000, 1); // the hypervisor updates the record mid-read
            }
            return 10;
        });
        assertEquals(9_010, clock.now());
        assertEquals(2, reads.get());
    }

    @Test
    void waitsWhileTheVersionIsOdd() throws InterruptedException {
        write(3, 0, 1_000, 0x8000_0000, 1);
        Thread hypervisor = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            write(4, 0, 7_000, 0x8000_0000, 1);
        });
        assertEquals(7_010, new XenClock(time, () -> 10).now());
        hypervisor.join();
    }

    @Test
    void anEmptyRecordIsNotValid() {
        assertFalse(new XenClock(time, () -> 0).isValid());
        write(2, 0, 0, 0x8000_0000, 1);
        assertTrue(new XenClock(time, () -> 0).isValid());
    }

    private void write(int version, long tscTimestamp, long systemTime, int mul, int shift) {
        GuestField.u64(time, VcpuTimeInfo.TSC_TIMESTAMP, tscTimestamp);
        GuestField.u64(time, VcpuTimeInfo.SYSTEM_TIME, systemTime);
        GuestField.u32(time, VcpuTimeInfo.TSC_TO_SYSTEM_MUL, mul);
        time.set(ValueLayout.JAVA_BYTE, VcpuTimeInfo.TSC_SHIFT, (byte) shift);
        GuestField.u32(time, VcpuTimeInfo.VERSION, version);
    }
}
