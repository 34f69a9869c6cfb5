package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * struct kvm_segment (24 bytes): base u64 @0, limit u32 @8, selector u16 @12, then the u8 fields
 * type @14, present, dpl, db, s, l, g, avl, unusable @22, padding @23.
 */
public record KvmSegment(long base, int limit, int selector, int type, int present, int dpl, int db, int s, int l,
        int g, int avl, int unusable) {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("base"),
            ValueLayout.JAVA_INT.withName("limit"), ValueLayout.JAVA_SHORT.withName("selector"), u8("type"),
            u8("present"), u8("dpl"), u8("db"), u8("s"), u8("l"), u8("g"), u8("avl"), u8("unusable"),
            MemoryLayout.paddingLayout(1));
    static final long SIZE = LAYOUT.byteSize();
    /** Offsets of the fields read in place. */
    public static final long SELECTOR = LAYOUT.byteOffset(PathElement.groupElement("selector")),
            L = LAYOUT.byteOffset(PathElement.groupElement("l"));

    private static ValueLayout u8(String name) {
        return ValueLayout.JAVA_BYTE.withName(name);
    }

    /** A flat 4 GiB 32-bit segment (present, s, db, g) with {@code selector} and {@code type} (11 code, 3 data). */
    public static KvmSegment flat32(int selector, int type) {
        return new KvmSegment(0, 0xffffffff, selector, type, 1, 0, 1, 1, 0, 1, 0, 0);
    }

    static KvmSegment read(MemorySegment m, long at) {
        return new KvmSegment(m.get(ValueLayout.JAVA_LONG, at), m.get(ValueLayout.JAVA_INT, at + 8),
                Short.toUnsignedInt(m.get(ValueLayout.JAVA_SHORT, at + 12)), u8(m, at + 14), u8(m, at + 15),
                u8(m, at + 16), u8(m, at + 17), u8(m, at + 18), u8(m, at + 19), u8(m, at + 20), u8(m, at + 21),
                u8(m, at + 22));
    }

    void write(MemorySegment m, long at) {
        m.set(ValueLayout.JAVA_LONG, at, base);
        m.set(ValueLayout.JAVA_INT, at + 8, limit);
        m.set(ValueLayout.JAVA_SHORT, at + 12, (short) selector);
        m.set(ValueLayout.JAVA_BYTE, at + 14, (byte) type);
        m.set(ValueLayout.JAVA_BYTE, at + 15, (byte) present);
        m.set(ValueLayout.JAVA_BYTE, at + 16, (byte) dpl);
        m.set(ValueLayout.JAVA_BYTE, at + 17, (byte) db);
        m.set(ValueLayout.JAVA_BYTE, at + 18, (byte) s);
        m.set(ValueLayout.JAVA_BYTE, at + 19, (byte) l);
        m.set(ValueLayout.JAVA_BYTE, at + 20, (byte) g);
        m.set(ValueLayout.JAVA_BYTE, at + 21, (byte) avl);
        m.set(ValueLayout.JAVA_BYTE, at + 22, (byte) unusable);
        m.set(ValueLayout.JAVA_BYTE, at + 23, (byte) 0);
    }

    private static int u8(MemorySegment m, long at) {
        return Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, at));
    }
}
