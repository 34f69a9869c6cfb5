package kvm.provider.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kvm.provider.boot.AcpiTables.PowerRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AcpiTables}: the tables as an independent reader walks them from the RSDP (layouts and
 * numbers from the ACPI 6 spec, written out here rather than taken from the class), what Linux
 * makes of them, the OUTs {@link AcpiTables#request} decodes, and what write refuses.
 */
class AcpiTablesTest {
    static final long BASE = 0x9000;
    static final byte CANARY = (byte) 0xa5;
    /** Name (_S5, Package (0x02) { 0x05, 0x05 }). */
    static final byte[] S5_AML = {0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05};

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment ram = arena.allocate(64L << 10);

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void rsdpLeadsToChecksummedTablesForEveryVcpuCount() {
        for (int n : new int[] {1, 2, 4, 64, 255}) {
            ram.fill(CANARY);
            long rsdp = AcpiTables.write(ram, BASE, ram.byteSize(), n);
            Tables t = Tables.read(ram, rsdp);
            assertEquals(BASE, rsdp, "the RSDP comes first");
            assertEquals(Map.of("FACP", 276L, "APIC", 44L + 8L * n, "DSDT", 48L), t.lengths(), n + " vCPUs");
            assertEquals(6, t.u8("FACP", 8), "FADT revision");
            assertEquals(5, t.u8("APIC", 8), "MADT revision");
            assertEquals(2, t.u8("DSDT", 8), "DSDT revision (64-bit integers)");
            long end = t.end();
            assertEquals(BASE + AcpiTables.size(n), end, "the tables end where size() says, " + n + " vCPUs");
            assertEquals(CANARY, ram.get(ValueLayout.JAVA_BYTE, end), "the byte after the tables");
        }
    }

    @Test
    void madtHasOneEnabledLocalApicPerVcpu() {
        for (int n : new int[] {1, 3, 255}) {
            Tables t = Tables.read(ram, AcpiTables.write(ram, BASE, ram.byteSize(), n));
            assertEquals(0xfee00000L, t.u32("APIC", 36), "local APIC address");
            assertEquals(0, t.u32("APIC", 40), "flags: no PCAT_COMPAT (no 8259 pair)");
            int entries = 0;
            for (int at = 44; at < t.length("APIC"); at += t.u8("APIC", at + 1)) {
                assertEquals(0, t.u8("APIC", at), "structure " + entries + " is a Processor Local APIC (no I/O APIC)");
                assertEquals(8, t.u8("APIC", at + 1), "its length");
                assertEquals(entries, t.u8("APIC", at + 2), "ACPI Processor UID");
                assertEquals(entries, t.u8("APIC", at + 3), "APIC ID");
                assertEquals(1, t.u32("APIC", at + 4), "flags: enabled");
                entries++;
            }
            assertEquals(n, entries);
        }
    }

    @Test
    void fadtIsHardwareReducedWithSleepAndResetRegisters() {
        Tables t = Tables.read(ram, AcpiTables.write(ram, BASE, ram.byteSize(), 2));
        long dsdt = t.address("DSDT");
        assertEquals(0, t.u32("FACP", 36), "FIRMWARE_CTRL: no FACS");
        assertEquals(dsdt, t.u32("FACP", 40), "DSDT");
        for (int at = 44; at < 109; at++) {
            assertEquals(0, t.u8("FACP", at), "legacy byte " + at + " (PM profile, SCI, SMI, PM1/PM2/GPE blocks...)");
        }
        assertEquals((1 << 2) | (1 << 5), t.u16("FACP", 109), "IAPC_BOOT_ARCH: no VGA, no CMOS RTC");
        assertEquals((1 << 20) | (1 << 10), t.u32("FACP", 112), "flags: HW_REDUCED_ACPI | RESET_REG_SUP");
        assertIoByte(t, 116, AcpiTables.RESET_PORT, "RESET_REG");
        assertEquals(AcpiTables.RESET_VALUE, t.u8("FACP", 128), "RESET_VALUE");
        assertEquals(0, t.u16("FACP", 129), "ARM_BOOT_ARCH");
        assertEquals(0, t.u64("FACP", 132), "X_FIRMWARE_CTRL");
        assertEquals(dsdt, t.u64("FACP", 140), "X_DSDT");
        for (int at = 148; at < 244; at++) {
            assertEquals(0, t.u8("FACP", at), "X_PM1a_EVT_BLK..X_GPE1_BLK byte " + at);
        }
        assertIoByte(t, 244, AcpiTables.SLEEP_CONTROL_PORT, "SLEEP_CONTROL_REG");
        assertIoByte(t, 256, AcpiTables.SLEEP_STATUS_PORT, "SLEEP_STATUS_REG");
        assertEquals(0, t.u64("FACP", 268), "hypervisor vendor identity");
    }

    @Test
    void dsdtHoldsExactlyTheS5Package() {
        Tables t = Tables.read(ram, AcpiTables.write(ram, BASE, ram.byteSize(), 1));
        assertArrayEquals(S5_AML, t.body("DSDT"));
    }

    @Test
    void headersNameThisProject() {
        Tables t = Tables.read(ram, AcpiTables.write(ram, BASE, ram.byteSize(), 1));
        assertEquals("XENEVT", ascii(ram, BASE + 9, 6), "RSDP OEMID");
        for (String sig : List.of("XSDT", "FACP", "APIC", "DSDT")) {
            long at = t.address(sig);
            assertEquals("XENEVT", ascii(ram, at + 10, 6), sig + " OEMID");
            assertEquals("XENEVTCH", ascii(ram, at + 16, 8), sig + " OEM table ID");
            assertEquals("XEVT", ascii(ram, at + 28, 4), sig + " creator ID");
        }
    }

    /**
     * Why the tables exist: what Linux 6.1 does with them. acpi_sleep_state_supported(S5) wants _S5
     * and, hardware-reduced, non-zero sleep control and status addresses; acpi_power_off then writes
     * WAK_STS to the status register and (SLP_TYPa << 2) | SLP_EN to the control register, as byte
     * OUTs (access size 1); acpi_reboot writes RESET_VALUE to RESET_REG if RESET_REG_SUP is set.
     */
    @Test
    void linuxPoweroffAndRebootReachTheVmm() {
        Tables t = Tables.read(ram, AcpiTables.write(ram, BASE, ram.byteSize(), 1));
        int flags = (int) t.u32("FACP", 112);
        assertTrue((flags & (1 << 20)) != 0, "hardware-reduced: no PIT, no 8259, sleep registers instead of PM1");
        byte[] aml = t.body("DSDT");
        int s5 = indexOf(aml, new byte[] {0x08, '_', 'S', '5', '_', 0x12});
        assertTrue(s5 >= 0, "_S5 defined in the DSDT");
        assertEquals(0x0a, aml[s5 + 8], "SLP_TYPa as a ByteConst");
        int slpTyp = aml[s5 + 9];
        long control = t.u64("FACP", 244 + 4);
        long status = t.u64("FACP", 256 + 4);
        assertTrue(control != 0 && status != 0, "sleep control and status addresses");
        assertEquals(1, t.u8("FACP", 244 + 3), "control written by byte");
        assertEquals(1, t.u8("FACP", 256 + 3), "status written by byte");
        assertEquals(PowerRequest.NONE, AcpiTables.request((int) status, 1, 0x80), "WAK_STS first");
        assertEquals(PowerRequest.POWER_OFF, AcpiTables.request((int) control, 1, (slpTyp << 2) & 0x1c | 0x20));

        assertTrue((flags & (1 << 10)) != 0, "RESET_REG_SUP");
        assertEquals(8, t.u8("FACP", 116 + 1), "Linux uses a RESET_REG only if 8 bits wide");
        assertEquals(PowerRequest.RESET, AcpiTables.request((int) t.u64("FACP", 116 + 4), 1, t.u8("FACP", 128)));
    }

    @Test
    void requestDecodesOnlyS5AndReset() {
        int control = AcpiTables.SLEEP_CONTROL_PORT;
        int status = AcpiTables.SLEEP_STATUS_PORT;
        int reset = AcpiTables.RESET_PORT;
        assertEquals(PowerRequest.POWER_OFF, AcpiTables.request(control, 1, 0x34), "SLP_TYP 5 | SLP_EN");
        assertEquals(PowerRequest.POWER_OFF, AcpiTables.request(control, 1, 0x34 | 0x80 | 0x03),
                "reserved bits do not matter");
        assertEquals(PowerRequest.NONE, AcpiTables.request(control, 1, 0x14), "S5 without SLP_EN");
        for (int typ = 0; typ < 8; typ++) {
            if (typ != 5) {
                assertEquals(PowerRequest.NONE, AcpiTables.request(control, 1, typ << 2 | 0x20), "SLP_TYP " + typ);
            }
        }
        assertEquals(PowerRequest.NONE, AcpiTables.request(status, 1, 0x80), "WAK_STS");
        assertEquals(PowerRequest.NONE, AcpiTables.request(status, 1, 0x34), "S5 to the status register");
        assertEquals(PowerRequest.RESET, AcpiTables.request(reset, 1, AcpiTables.RESET_VALUE));
        assertEquals(PowerRequest.NONE, AcpiTables.request(reset, 1, 0));
        assertEquals(PowerRequest.NONE, AcpiTables.request(reset, 1, AcpiTables.RESET_VALUE ^ 0xff));
        assertEquals(PowerRequest.NONE, AcpiTables.request(control, 1, AcpiTables.RESET_VALUE));
        for (int size : new int[] {0, 2, 4, 8}) {
            assertEquals(PowerRequest.NONE, AcpiTables.request(control, size, 0x34), "size " + size);
            assertEquals(PowerRequest.NONE, AcpiTables.request(reset, size, AcpiTables.RESET_VALUE), "size " + size);
        }
        assertEquals(PowerRequest.NONE, AcpiTables.request(control, 1, 0x134), "more than a byte");
        assertEquals(PowerRequest.NONE, AcpiTables.request(control, 1, -0xcc), "negative");
        for (int port : new int[] {0x7e, 0xe9, 0x64, 0xcf9, 0x5ff, 0x603, control + 0x10000}) {
            assertEquals(PowerRequest.NONE, AcpiTables.request(port, 1, 0x34), "port 0x" + Integer.toHexString(port));
            assertEquals(PowerRequest.NONE, AcpiTables.request(port, 1, AcpiTables.RESET_VALUE),
                    "port 0x" + Integer.toHexString(port));
        }
    }

    @Test
    void portsAreDistinctAndClearOfTheOthers() {
        List<Integer> ports = List.of(AcpiTables.SLEEP_CONTROL_PORT, AcpiTables.SLEEP_STATUS_PORT,
                AcpiTables.RESET_PORT);
        assertEquals(3, ports.stream().distinct().count());
        for (int p : ports) {
            assertTrue(p > 0 && p <= 0xffff, "an I/O port: 0x" + Integer.toHexString(p));
            assertNotEquals(0x7e, p, "the hypercall stubs' port");
            assertNotEquals(0xe9, p, "the debug console");
        }
        assertNotEquals(0, AcpiTables.RESET_VALUE);
    }

    @Test
    void writesNothingOutsideItsRegion() {
        for (int n : new int[] {1, 255}) {
            ram.fill(CANARY);
            long size = AcpiTables.size(n);
            AcpiTables.write(ram, BASE, BASE + size, n);
            for (long at = 0; at < ram.byteSize(); at++) {
                if (at < BASE || at >= BASE + size) {
                    assertEquals(CANARY, ram.get(ValueLayout.JAVA_BYTE, at), "byte 0x" + Long.toHexString(at));
                }
            }
            Tables t = Tables.read(ram, BASE);
            assertEquals(BASE + size, t.end(), "the MADT ends at the limit");
        }
    }

    @Test
    void sizeGrowsByOneLocalApicPerVcpu() {
        for (int n = 1; n <= 255; n++) {
            assertEquals(AcpiTables.size(1) + 8L * (n - 1), AcpiTables.size(n));
        }
    }

    @Test
    void refusesBadArguments() {
        ram.fill(CANARY);
        long size1 = AcpiTables.size(1);
        long end = ram.byteSize();
        assertRefused(() -> AcpiTables.size(0), "0 vCPUs");
        assertRefused(() -> AcpiTables.size(256), "256 vCPUs");
        assertRefused(() -> AcpiTables.write(ram, BASE, end, 0), "0 vCPUs");
        assertRefused(() -> AcpiTables.write(ram, BASE, end, -1), "-1 vCPUs");
        assertRefused(() -> AcpiTables.write(ram, BASE, end, 256), "256 vCPUs");
        assertRefused(() -> AcpiTables.write(ram, BASE + 8, end, 1), "0x9008");
        assertRefused(() -> AcpiTables.write(ram, -16, end, 1), "0xfffffffffffffff0");
        assertRefused(() -> AcpiTables.write(ram, BASE, end + 1, 1), "outside RAM");
        assertRefused(() -> AcpiTables.write(ram, BASE, -1, 1), "limit 0xffffffffffffffff is outside RAM");
        assertRefused(() -> AcpiTables.write(ram, BASE, BASE + size1 - 1, 1), "the limit is 0x" + Long.toHexString(
                BASE + size1 - 1));
        assertRefused(() -> AcpiTables.write(ram, BASE, BASE - 16, 1), "need 0x" + Long.toHexString(size1));
        assertRefused(() -> AcpiTables.write(ram, ((end - size1) & -16) + 16, end, 1), "need 0x");
        for (long at = 0; at < ram.byteSize(); at++) {
            assertEquals(CANARY, ram.get(ValueLayout.JAVA_BYTE, at),
                    "refused writes wrote byte 0x" + Long.toHexString(at));
        }
    }

    /** A sparse file maps more guest RAM than the test could allocate: tables just below 4 GiB, and above refused. */
    @Test
    void tablesJustBelowFourGib(@TempDir Path dir) throws IOException {
        long fourGib = 1L << 32;
        try (FileChannel f = FileChannel.open(dir.resolve("ram"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.SPARSE);
                Arena mapping = Arena.ofConfined()) {
            MemorySegment big = f.map(FileChannel.MapMode.READ_WRITE, 0, fourGib + 0x10000, mapping);
            long base = (fourGib - AcpiTables.size(4)) & -16;
            Tables t = Tables.read(big, AcpiTables.write(big, base, fourGib, 4));
            assertEquals(t.address("DSDT"), t.u32("FACP", 40), "the 32-bit DSDT field, above 2 GiB");
            assertEquals(t.address("DSDT"), t.u64("FACP", 140), "X_DSDT");
            assertTrue(t.end() <= fourGib);
            assertRefused(() -> AcpiTables.write(big, fourGib - 0x1000, fourGib + 0x1000, 1), "above 4 GiB");
        }
    }

    private static void assertRefused(Runnable call, String inMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(inMessage), "\"" + e.getMessage() + "\" should mention " + inMessage);
    }

    private static void assertIoByte(Tables t, int at, int port, String what) {
        assertEquals(1, t.u8("FACP", at), what + " address space: System I/O");
        assertEquals(8, t.u8("FACP", at + 1), what + " bit width");
        assertEquals(0, t.u8("FACP", at + 2), what + " bit offset");
        assertEquals(1, t.u8("FACP", at + 3), what + " access size: byte");
        assertEquals(port, t.u64("FACP", at + 4), what + " address");
    }

    private static String ascii(MemorySegment m, long at, int n) {
        return new String(m.asSlice(at, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    private static int indexOf(byte[] b, byte[] what) {
        for (int i = 0; i + what.length <= b.length; i++) {
            if (Arrays.equals(b, i, i + what.length, what, 0, what.length)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The tables as a guest finds them: RSDP → XSDT → each table by address, with every signature,
     * length and checksum checked on the way, bytes assembled little-endian by hand.
     */
    record Tables(MemorySegment ram, long rsdp, Map<String, Long> addresses) {
        static Tables read(MemorySegment ram, long rsdp) {
            assertEquals(0, rsdp % 16, "RSDP alignment");
            assertEquals("RSD PTR ", ascii(ram, rsdp, 8));
            assertEquals(0, sum(ram, rsdp, 20), "RSDP checksum over 20 bytes");
            assertEquals(2, u(ram, rsdp + 15, 1), "RSDP revision");
            assertEquals(0, u(ram, rsdp + 16, 4), "RsdtAddress");
            assertEquals(36, u(ram, rsdp + 20, 4), "RSDP length");
            assertEquals(0, sum(ram, rsdp, 36), "RSDP extended checksum over 36 bytes");
            assertEquals(0, u(ram, rsdp + 33, 3), "RSDP reserved");
            long xsdt = u(ram, rsdp + 24, 8);
            assertEquals("XSDT", ascii(ram, xsdt, 4));
            long xsdtLength = u(ram, xsdt + 4, 4);
            assertEquals(36 + 2 * 8, xsdtLength, "XSDT lists two tables");
            assertEquals(1, u(ram, xsdt + 8, 1), "XSDT revision");
            assertEquals(0, sum(ram, xsdt, xsdtLength), "XSDT checksum");
            Map<String, Long> addresses = new HashMap<>();
            addresses.put("XSDT", xsdt);
            for (long at = xsdt + 36; at < xsdt + xsdtLength; at += 8) {
                long table = u(ram, at, 8);
                assertTrue(addresses.put(ascii(ram, table, 4), table) == null, "one table per signature");
            }
            assertEquals(List.of("APIC", "FACP", "XSDT"), addresses.keySet().stream().sorted().toList());
            long dsdt = u(ram, addresses.get("FACP") + 140, 8);
            assertEquals("DSDT", ascii(ram, dsdt, 4));
            addresses.put("DSDT", dsdt);
            List<long[]> ranges = new ArrayList<>();
            ranges.add(new long[] {rsdp, rsdp + 36});
            for (long at : addresses.values()) {
                long length = u(ram, at + 4, 4);
                assertEquals(0, sum(ram, at, length), ascii(ram, at, 4) + " checksum");
                ranges.add(new long[] {at, at + length});
            }
            ranges.sort((a, b) -> Long.compare(a[0], b[0]));
            for (int i = 1; i < ranges.size(); i++) {
                assertTrue(ranges.get(i - 1)[1] <= ranges.get(i)[0], "tables overlap");
            }
            return new Tables(ram, rsdp, addresses);
        }

        long address(String sig) {
            return addresses.get(sig);
        }

        long length(String sig) {
            return u32(sig, 4);
        }

        /** Lengths of the tables the XSDT and FADT reach. */
        Map<String, Long> lengths() {
            Map<String, Long> m = new HashMap<>();
            for (String sig : addresses.keySet()) {
                if (!sig.equals("XSDT")) {
                    m.put(sig, length(sig));
                }
            }
            return m;
        }

        /** The highest end of any table. */
        long end() {
            return addresses.keySet().stream().mapToLong(s -> address(s) + length(s)).max().orElseThrow();
        }

        byte[] body(String sig) {
            return ram.asSlice(address(sig) + 36, length(sig) - 36).toArray(ValueLayout.JAVA_BYTE);
        }

        int u8(String sig, int at) {
            return (int) u(ram, address(sig) + at, 1);
        }

        int u16(String sig, int at) {
            return (int) u(ram, address(sig) + at, 2);
        }

        long u32(String sig, int at) {
            return u(ram, address(sig) + at, 4);
        }

        long u64(String sig, int at) {
            return u(ram, address(sig) + at, 8);
        }

        static long u(MemorySegment m, long at, int n) {
            long v = 0;
            for (int i = n - 1; i >= 0; i--) {
                v = v << 8 | (m.get(ValueLayout.JAVA_BYTE, at + i) & 0xff);
            }
            return v;
        }

        static int sum(MemorySegment m, long at, long n) {
            int s = 0;
            for (long i = 0; i < n; i++) {
                s += m.get(ValueLayout.JAVA_BYTE, at + i) & 0xff;
            }
            return s & 0xff;
        }
    }
}
