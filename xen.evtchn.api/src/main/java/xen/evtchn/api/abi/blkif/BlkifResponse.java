package xen.evtchn.api.abi.blkif;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * struct blkif_response, {@value #SIZE} bytes: 0 u64 id (the request's), 8 u8 operation (the
 * request's), (1 padding), 10 s16 status (Blkif.RSP_*), (4 padding).
 */
public record BlkifResponse(long id, int operation, int status) {
    public static final int SIZE = 16;
    public static final int ID = 0;
    public static final int OPERATION = 8;
    public static final int STATUS = 10;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Encodes it at {@code at}, padding zeroed. */
    public void write(MemorySegment to, long at) {
        to.asSlice(at, SIZE).fill((byte) 0);
        to.set(LONG, at + ID, id);
        to.set(ValueLayout.JAVA_BYTE, at + OPERATION, (byte) operation);
        to.set(SHORT, at + STATUS, (short) status);
    }

    public static BlkifResponse read(MemorySegment from, long at) {
        return new BlkifResponse(from.get(LONG, at + ID), Byte.toUnsignedInt(from.get(ValueLayout.JAVA_BYTE, at + OPERATION)),
                from.get(SHORT, at + STATUS));
    }
}
