package xen.evtchn.api.abi;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Plain reads and writes of x86 guest fields: little-endian and unaligned (a guest may put a
 * struct anywhere). Unsigned fields come back zero-extended in the next wider Java type, except
 * u32, which stays an {@code int} carrying the guest's 32 bits (compare with
 * {@link Integer#compareUnsigned} or check {@code < 0} where the sign matters).
 */
public final class GuestField {
    public static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GuestField() {
    }

    public static int u8(MemorySegment s, long offset) {
        return Byte.toUnsignedInt(s.get(U8, offset));
    }

    public static int u16(MemorySegment s, long offset) {
        return Short.toUnsignedInt(s.get(U16, offset));
    }

    public static int u32(MemorySegment s, long offset) {
        return s.get(U32, offset);
    }

    public static long u64(MemorySegment s, long offset) {
        return s.get(U64, offset);
    }

    public static void u8(MemorySegment s, long offset, int value) {
        s.set(U8, offset, (byte) value);
    }

    public static void u16(MemorySegment s, long offset, int value) {
        s.set(U16, offset, (short) value);
    }

    public static void u32(MemorySegment s, long offset, int value) {
        s.set(U32, offset, value);
    }

    public static void u64(MemorySegment s, long offset, long value) {
        s.set(U64, offset, value);
    }
}
