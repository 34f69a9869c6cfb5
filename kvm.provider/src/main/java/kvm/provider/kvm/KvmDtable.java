package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/** struct kvm_dtable (16 bytes): base u64 @0, limit u16 @8, padding. The GDT and IDT registers. */
public record KvmDtable(long base, int limit) {
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("base"),
            ValueLayout.JAVA_SHORT.withName("limit"), MemoryLayout.paddingLayout(6));

    static KvmDtable read(MemorySegment m, long at) {
        return new KvmDtable(m.get(ValueLayout.JAVA_LONG, at), Short.toUnsignedInt(m.get(ValueLayout.JAVA_SHORT, at + 8)));
    }

    void write(MemorySegment m, long at) {
        m.set(ValueLayout.JAVA_LONG, at, base);
        m.set(ValueLayout.JAVA_SHORT, at + 8, (short) limit);
        m.set(ValueLayout.JAVA_SHORT, at + 10, (short) 0);
        m.set(ValueLayout.JAVA_INT, at + 12, 0);
    }
}
