package kvm.provider.kvm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * struct kvm_run, the page KVM shares with each vCPU fd, as far as this layer reads or writes it
 * (linux/kvm.h; x86-64): the header, the exit union at 32 with the members decoded by
 * {@link KvmExit#decode}, and the sync-regs area at 304. Every offset used on kvm_run is derived
 * here from this one layout.
 */
final class KvmRun {
    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;

    /** The exit's union is 256 bytes, whatever member the exit uses. */
    static final long EXIT_UNION_SIZE = 256;

    static final StructLayout IO = MemoryLayout.structLayout(U8.withName("direction"), U8.withName("size"),
            U16.withName("port"), U32.withName("count"), U64.withName("data_offset"));
    static final StructLayout MMIO = MemoryLayout.structLayout(U64.withName("phys_addr"),
            MemoryLayout.sequenceLayout(8, U8).withName("data"), U32.withName("len"), U8.withName("is_write"),
            MemoryLayout.paddingLayout(3));
    /** struct kvm_debug_exit_arch. */
    static final StructLayout DEBUG = MemoryLayout.structLayout(U32.withName("exception"), MemoryLayout.paddingLayout(4),
            U64.withName("pc"), U64.withName("dr6"), U64.withName("dr7"));
    static final StructLayout MSR = MemoryLayout.structLayout(U8.withName("error"), MemoryLayout.paddingLayout(7),
            U32.withName("reason"), U32.withName("index"), U64.withName("data"));
    static final StructLayout INTERNAL = MemoryLayout.structLayout(U32.withName("suberror"), U32.withName("ndata"));
    static final StructLayout FAIL_ENTRY = MemoryLayout.structLayout(U64.withName("hardware_entry_failure_reason"),
            U32.withName("cpu"), MemoryLayout.paddingLayout(4));

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            U8.withName("request_interrupt_window"), U8.withName("immediate_exit"), MemoryLayout.paddingLayout(6),
            U32.withName("exit_reason"), U8.withName("ready_for_interrupt_injection"), U8.withName("if_flag"),
            U16.withName("flags"), U64.withName("cr8"), U64.withName("apic_base"),
            MemoryLayout.unionLayout(IO.withName("io"), MMIO.withName("mmio"), DEBUG.withName("debug"),
                    MSR.withName("msr"), INTERNAL.withName("internal"), FAIL_ENTRY.withName("fail_entry"),
                    MemoryLayout.paddingLayout(EXIT_UNION_SIZE)).withName("exit"),
            U64.withName("kvm_valid_regs"), U64.withName("kvm_dirty_regs"),
            MemoryLayout.structLayout(KvmRegs.LAYOUT.withName("regs"), KvmSregs.LAYOUT.withName("sregs")).withName("s"));

    static final long REQUEST_INTERRUPT_WINDOW = offset("request_interrupt_window");
    static final long EXIT_REASON = offset("exit_reason");
    static final long READY_FOR_INTERRUPT_INJECTION = offset("ready_for_interrupt_injection");
    static final long IF_FLAG = offset("if_flag");
    static final long EXIT = offset("exit");
    static final long IO_DIRECTION = offset("exit", "io", "direction");
    static final long IO_SIZE = offset("exit", "io", "size");
    static final long IO_PORT = offset("exit", "io", "port");
    static final long IO_COUNT = offset("exit", "io", "count");
    static final long IO_DATA_OFFSET = offset("exit", "io", "data_offset");
    static final long MMIO_PHYS_ADDR = offset("exit", "mmio", "phys_addr");
    static final long MMIO_DATA = offset("exit", "mmio", "data");
    static final long MMIO_LEN = offset("exit", "mmio", "len");
    static final long MMIO_IS_WRITE = offset("exit", "mmio", "is_write");
    static final long DEBUG_EXCEPTION = offset("exit", "debug", "exception");
    static final long DEBUG_PC = offset("exit", "debug", "pc");
    static final long MSR_ERROR = offset("exit", "msr", "error");
    static final long MSR_REASON = offset("exit", "msr", "reason");
    static final long MSR_INDEX = offset("exit", "msr", "index");
    static final long MSR_DATA = offset("exit", "msr", "data");
    static final long INTERNAL_SUBERROR = offset("exit", "internal", "suberror");
    static final long FAIL_ENTRY_REASON = offset("exit", "fail_entry", "hardware_entry_failure_reason");
    static final long VALID_REGS = offset("kvm_valid_regs");
    static final long DIRTY_REGS = offset("kvm_dirty_regs");
    static final long SYNC_REGS = offset("s", "regs");
    static final long SYNC_SREGS = offset("s", "sregs");

    private KvmRun() {
    }

    private static long offset(String... path) {
        PathElement[] elements = new PathElement[path.length];
        for (int i = 0; i < path.length; i++) {
            elements[i] = PathElement.groupElement(path[i]);
        }
        return LAYOUT.byteOffset(elements);
    }
}
