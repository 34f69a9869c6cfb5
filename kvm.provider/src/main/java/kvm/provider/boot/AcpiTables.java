package kvm.provider.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The ACPI tables (ACPI 6.x, little-endian) a PVH Linux guest needs from this VMM, found through
 * hvm_start_info.rsdp_paddr: RSDP (revision 2) → XSDT → FADT, MADT; FADT → DSDT. Why each:
 * <ul>
 * <li>MADT, even for one vCPU: it is how Linux finds its CPUs and their local APICs (without it or
 * MP tables it logs "APIC: ACPI MADT or MP tables are not detected"), and the local APIC timer is
 * its clock event device whenever the Xen timer is not used. No I/O APIC, as Xen gives PVH domUs
 * none.</li>
 * <li>A hardware-reduced FADT: Linux then sets up no PIT and no legacy 8259 PIC
 * (acpi_generic_reduced_hw_init), devices this VMM does not have, and expects sleep and reset
 * registers instead of the PM1 blocks.</li>
 * <li>_S5 in the DSDT plus the FADT's sleep control and status registers: only with all three does
 * acpi_sleep_state_supported(S5) hold, so that acpi_sleep_init registers acpi_power_off and
 * {@code poweroff} ends in an OUT to {@link #SLEEP_CONTROL_PORT}; {@link #request} says what such an
 * OUT asks for.</li>
 * </ul>
 * Everything legacy (FACS, PM1/PM2/GPE blocks, SMI command, SCI) is zero.
 */
public final class AcpiTables {
    /*
     * The three byte-wide registers sit at 0x600-0x602: nothing in this VMM decodes them, and they
     * are far from the hypercall stubs' port 0x7e and the debug console's 0xe9.
     */
    /** The FADT's SLEEP_CONTROL_REG: SLP_TYP in bits 2-4, SLP_EN in bit 5. */
    public static final int SLEEP_CONTROL_PORT = 0x600;
    /** The FADT's SLEEP_STATUS_REG: Linux writes WAK_STS (bit 7) here before it sleeps; nothing to do. */
    public static final int SLEEP_STATUS_PORT = 0x601;
    /** The FADT's RESET_REG. */
    public static final int RESET_PORT = 0x602;
    /** The FADT's RESET_VALUE: non-zero, so a stray zero written to {@link #RESET_PORT} does not reset. */
    public static final int RESET_VALUE = 0x01;
    /** At most this many vCPUs: APIC IDs 0..254 in xAPIC Local APIC structures (0xff is broadcast). */
    public static final int MAX_VCPUS = 255;

    /** What a guest's OUT to one of the FADT's registers asks for. */
    public enum PowerRequest {
        NONE, POWER_OFF, RESET
    }

    /** SLP_TYP for S5: the DSDT's _S5 package and {@link #request} share it. */
    static final int S5_SLP_TYP = 5;
    static final int SLP_TYP_SHIFT = 2;
    static final int SLP_TYP_MASK = 0x1c;
    static final int SLP_EN = 0x20;

    static final byte[] OEM_ID = ascii("XENEVT");
    static final byte[] OEM_TABLE_ID = ascii("XENEVTCH");
    static final byte[] CREATOR_ID = ascii("XEVT");
    static final int OEM_REVISION = 1;
    static final int CREATOR_REVISION = 1;

    /** Name (_S5, Package (0x02) { 0x05, 0x05 }): SLP_TYPa and SLP_TYPb, both S5_SLP_TYP. */
    static final byte[] DSDT_AML = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, S5_SLP_TYP, 0x0a,
            S5_SLP_TYP};

    static final int HEADER = 36;
    static final int RSDP_LENGTH = 36;
    static final int XSDT_LENGTH = HEADER + 2 * 8;
    static final int FADT_LENGTH = 276;
    static final int DSDT_LENGTH = HEADER + DSDT_AML.length;
    static final int MADT_FIXED = HEADER + 8;
    static final int LAPIC_LENGTH = 8;

    /* Each table 16-aligned after the RSDP, the MADT last as only it grows with the vCPUs. */
    static final int RSDP = 0;
    static final int XSDT = align16(RSDP + RSDP_LENGTH);
    static final int FADT = align16(XSDT + XSDT_LENGTH);
    static final int DSDT = align16(FADT + FADT_LENGTH);
    static final int MADT = align16(DSDT + DSDT_LENGTH);

    static final int FADT_REVISION = 6;
    static final int MADT_REVISION = 5;
    static final int DSDT_REVISION = 2; // 64-bit AML integers
    static final int XSDT_REVISION = 1;
    static final int HW_REDUCED_ACPI = 1 << 20;
    static final int RESET_REG_SUP = 1 << 10;
    static final int VGA_NOT_PRESENT = 1 << 2;
    static final int CMOS_RTC_NOT_PRESENT = 1 << 5;
    static final int LOCAL_APIC_ADDRESS = 0xfee00000;
    static final int SYSTEM_IO = 1;
    static final long FOUR_GIB = 1L << 32;
    /* ACPI is little-endian, whatever the host. */
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private AcpiTables() {
    }

    /** Bytes the tables need for {@code vcpus} vCPUs, from the RSDP to the MADT's end. */
    public static long size(int vcpus) {
        checkVcpus(vcpus);
        return MADT + MADT_FIXED + (long) LAPIC_LENGTH * vcpus;
    }

    /**
     * Writes the tables into {@code ram} (mapped at guest-physical 0) at {@code base} (16-aligned),
     * all of them inside [base, limit), which must lie in RAM below 4 GiB (the FADT's 32-bit DSDT
     * field). Bytes from base to base + {@link #size} are overwritten, nothing else. Returns the
     * RSDP's guest-physical address, for hvm_start_info.rsdp_paddr.
     */
    public static long write(MemorySegment ram, long base, long limit, int vcpus) {
        long size = size(vcpus);
        if (limit < 0 || limit > ram.byteSize()) {
            throw new IllegalArgumentException("ACPI table limit 0x" + Long.toHexString(limit)
                    + " is outside RAM of 0x" + Long.toHexString(ram.byteSize()) + " bytes");
        }
        if (limit > FOUR_GIB) {
            throw new IllegalArgumentException("ACPI table limit 0x" + Long.toHexString(limit)
                    + " is above 4 GiB: the FADT's DSDT field has 32 bits");
        }
        if (base < 0 || base % 16 != 0) {
            throw new IllegalArgumentException("ACPI tables at 0x" + Long.toHexString(base)
                    + ": the base must be non-negative and 16-aligned (the RSDP's alignment)");
        }
        if (size > limit - base) {
            throw new IllegalArgumentException("ACPI tables for " + vcpus + " vCPUs need 0x" + Long.toHexString(size)
                    + " bytes from 0x" + Long.toHexString(base) + ", but the limit is 0x" + Long.toHexString(limit));
        }
        MemorySegment t = ram.asSlice(base, size);
        t.fill((byte) 0);
        rsdp(t, base);
        header(t, XSDT, "XSDT", XSDT_LENGTH, XSDT_REVISION);
        u64(t, XSDT + HEADER, base + FADT);
        u64(t, XSDT + HEADER + 8, base + MADT);
        checksum(t, XSDT, XSDT_LENGTH, XSDT + 9);
        fadt(t, base);
        header(t, DSDT, "DSDT", DSDT_LENGTH, DSDT_REVISION);
        MemorySegment.copy(DSDT_AML, 0, t, ValueLayout.JAVA_BYTE, DSDT + HEADER, DSDT_AML.length);
        checksum(t, DSDT, DSDT_LENGTH, DSDT + 9);
        madt(t, vcpus);
        return base + RSDP;
    }

    /**
     * What an OUT of {@code size} bytes of {@code value} (zero-extended) to {@code port} asks for:
     * {@link PowerRequest#POWER_OFF} for a byte to {@link #SLEEP_CONTROL_PORT} with SLP_EN set and
     * SLP_TYP 5 (S1-S4 are not offered, so other types ask for nothing), {@link PowerRequest#RESET}
     * for {@link #RESET_VALUE} to {@link #RESET_PORT}, else {@link PowerRequest#NONE}. The registers
     * are byte-wide, so wider writes ask for nothing.
     */
    public static PowerRequest request(int port, int size, long value) {
        if (size != 1 || value < 0 || value > 0xff) {
            return PowerRequest.NONE;
        }
        int v = (int) value;
        if (port == SLEEP_CONTROL_PORT && (v & SLP_EN) != 0 && (v & SLP_TYP_MASK) >> SLP_TYP_SHIFT == S5_SLP_TYP) {
            return PowerRequest.POWER_OFF;
        }
        if (port == RESET_PORT && v == RESET_VALUE) {
            return PowerRequest.RESET;
        }
        return PowerRequest.NONE;
    }

    /** RSDP revision 2: checksum over its first 20 bytes, extended checksum over all 36. */
    private static void rsdp(MemorySegment t, long base) {
        bytes(t, RSDP, ascii("RSD PTR "));
        bytes(t, RSDP + 9, OEM_ID);
        t.set(ValueLayout.JAVA_BYTE, RSDP + 15, (byte) 2);
        u32(t, RSDP + 16, 0); // no RSDT: a revision-2 RSDP's XSDT is what Linux uses
        u32(t, RSDP + 20, RSDP_LENGTH);
        u64(t, RSDP + 24, base + XSDT);
        checksum(t, RSDP, 20, RSDP + 8);
        checksum(t, RSDP, RSDP_LENGTH, RSDP + 32);
    }

    /** FADT revision 6 (ACPI 6.0 layout, 276 bytes), hardware-reduced. */
    private static void fadt(MemorySegment t, long base) {
        header(t, FADT, "FACP", FADT_LENGTH, FADT_REVISION);
        u32(t, FADT + 40, (int) (base + DSDT)); // below 4 GiB: checked by write
        t.set(U16, FADT + 109, (short) (VGA_NOT_PRESENT | CMOS_RTC_NOT_PRESENT));
        u32(t, FADT + 112, HW_REDUCED_ACPI | RESET_REG_SUP);
        ioByte(t, FADT + 116, RESET_PORT);
        t.set(ValueLayout.JAVA_BYTE, FADT + 128, (byte) RESET_VALUE);
        u64(t, FADT + 140, base + DSDT);
        ioByte(t, FADT + 244, SLEEP_CONTROL_PORT);
        ioByte(t, FADT + 256, SLEEP_STATUS_PORT);
        checksum(t, FADT, FADT_LENGTH, FADT + 9);
    }

    /** MADT: the local APIC address, no PCAT_COMPAT, then one enabled Local APIC per vCPU (UID = APIC ID = i). */
    private static void madt(MemorySegment t, int vcpus) {
        int length = MADT_FIXED + LAPIC_LENGTH * vcpus; // at most 44 + 8 * 255
        header(t, MADT, "APIC", length, MADT_REVISION);
        u32(t, MADT + HEADER, LOCAL_APIC_ADDRESS);
        for (int i = 0; i < vcpus; i++) {
            long at = MADT + MADT_FIXED + (long) LAPIC_LENGTH * i;
            t.set(ValueLayout.JAVA_BYTE, at, (byte) 0); // Processor Local APIC
            t.set(ValueLayout.JAVA_BYTE, at + 1, (byte) LAPIC_LENGTH);
            t.set(ValueLayout.JAVA_BYTE, at + 2, (byte) i);
            t.set(ValueLayout.JAVA_BYTE, at + 3, (byte) i);
            u32(t, at + 4, 1); // enabled
        }
        checksum(t, MADT, length, MADT + 9);
    }

    /** The common 36-byte header, checksum still 0. */
    private static void header(MemorySegment t, long at, String signature, int length, int revision) {
        bytes(t, at, ascii(signature));
        u32(t, at + 4, length);
        t.set(ValueLayout.JAVA_BYTE, at + 8, (byte) revision);
        bytes(t, at + 10, OEM_ID);
        bytes(t, at + 16, OEM_TABLE_ID);
        u32(t, at + 24, OEM_REVISION);
        bytes(t, at + 28, CREATOR_ID);
        u32(t, at + 32, CREATOR_REVISION);
    }

    /** A Generic Address Structure for a byte-wide register at an I/O port. */
    private static void ioByte(MemorySegment t, long at, int port) {
        t.set(ValueLayout.JAVA_BYTE, at, (byte) SYSTEM_IO);
        t.set(ValueLayout.JAVA_BYTE, at + 1, (byte) 8); // bit width
        t.set(ValueLayout.JAVA_BYTE, at + 2, (byte) 0); // bit offset
        t.set(ValueLayout.JAVA_BYTE, at + 3, (byte) 1); // access size: byte
        u64(t, at + 4, port);
    }

    /** Sets the byte at {@code field} so that the {@code length} bytes from {@code at} sum to 0 mod 256. */
    private static void checksum(MemorySegment t, long at, int length, long field) {
        t.set(ValueLayout.JAVA_BYTE, field, (byte) 0);
        int sum = 0;
        for (int i = 0; i < length; i++) {
            sum += t.get(ValueLayout.JAVA_BYTE, at + i);
        }
        t.set(ValueLayout.JAVA_BYTE, field, (byte) -sum);
    }

    private static void checkVcpus(int vcpus) {
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new IllegalArgumentException(vcpus + " vCPUs: the MADT takes 1 to " + MAX_VCPUS);
        }
    }

    private static void bytes(MemorySegment t, long at, byte[] b) {
        MemorySegment.copy(b, 0, t, ValueLayout.JAVA_BYTE, at, b.length);
    }

    private static void u32(MemorySegment t, long at, int v) {
        t.set(U32, at, v);
    }

    private static void u64(MemorySegment t, long at, long v) {
        t.set(U64, at, v);
    }

    private static int align16(int n) {
        return (n + 15) & -16;
    }

    private static byte[] ascii(String s) {
        byte[] b = new byte[s.length()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) s.charAt(i);
        }
        return b;
    }
}
