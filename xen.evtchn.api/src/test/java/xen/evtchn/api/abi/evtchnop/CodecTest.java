package xen.evtchn.api.abi.evtchnop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import xen.evtchn.api.abi.EvtchnOp;

/**
 * The 14 EVTCHNOP codecs against the reference layouts: each struct is written into a slice that
 * starts at an odd (unaligned) offset and is exactly the op's argument size, so a field written
 * past the struct fails; the bytes at the reference offsets must be the little-endian encoding of
 * the field; bytes around the slice must not move; read gives the value back; writeOut changes
 * its out field(s) only; u16 fields are unsigned and u32 fields keep all 32 bits.
 */
class CodecTest {
    /** The struct starts here in the buffer: odd, so no field is naturally aligned. */
    private static final int OFF = 3;
    private static final int BUF = 48;

    private MemorySegment buf;

    @BeforeEach
    void fill() {
        buf = Arena.ofAuto().allocate(BUF, 8);
        for (int i = 0; i < BUF; i++) {
            buf.set(ValueLayout.JAVA_BYTE, i, (byte) (0x40 + i * 3));
        }
    }

    /** The op's struct: exactly argSize bytes at the odd offset. */
    private MemorySegment struct(EvtchnOp op) {
        MemorySegment s = buf.asSlice(OFF, op.argSize());
        assertEquals(3, s.address() % 8, "the struct is unaligned");
        return s;
    }

    private byte[] snapshot() {
        return buf.toArray(ValueLayout.JAVA_BYTE);
    }

    /** The little-endian bytes of {@code value} at struct offset {@code at}. */
    private void assertLe(int at, long value, int width, String field) {
        for (int i = 0; i < width; i++) {
            int expected = (int) (value >>> (8 * i)) & 0xFF;
            int actual = buf.get(ValueLayout.JAVA_BYTE, OFF + at + i) & 0xFF;
            assertEquals(expected, actual, field + ": byte " + i + " at struct offset " + (at + i));
        }
    }

    /**
     * Every byte of the buffer equals {@code before} except those in the struct ranges given as
     * (offset, length) pairs.
     */
    private void assertUnchangedExcept(byte[] before, int... ranges) {
        byte[] now = snapshot();
        for (int i = 0; i < BUF; i++) {
            boolean inRange = false;
            for (int r = 0; r < ranges.length; r += 2) {
                if (i >= OFF + ranges[r] && i < OFF + ranges[r] + ranges[r + 1]) {
                    inRange = true;
                }
            }
            if (!inRange) {
                assertEquals(before[i], now[i], "byte " + i + " of the buffer (struct offset " + (i - OFF) + ") changed");
            }
        }
    }

    /** write must leave every byte outside the struct alone. */
    private void assertOutsideUnchanged(byte[] before, EvtchnOp op) {
        assertUnchangedExcept(before, 0, op.argSize());
    }

    // ---- bind_interdomain: 0 remote_dom u16, 4 remote_port u32, 8 local_port u32 (out) ----

    @Test
    void bindInterdomain() {
        assertEquals(0, BindInterdomain.REMOTE_DOM);
        assertEquals(4, BindInterdomain.REMOTE_PORT);
        assertEquals(8, BindInterdomain.LOCAL_PORT);
        MemorySegment s = struct(EvtchnOp.BIND_INTERDOMAIN);
        byte[] before = snapshot();
        BindInterdomain v = new BindInterdomain(0xBEEF, 0x8765_4321, 0xF1E2_D3C4);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.BIND_INTERDOMAIN);
        assertLe(0, 0xBEEF, 2, "remote_dom");
        assertLe(4, 0x8765_4321L, 4, "remote_port");
        assertLe(8, 0xF1E2_D3C4L, 4, "local_port");
        assertEquals(v, BindInterdomain.read(s));

        byte[] beforeOut = snapshot();
        BindInterdomain.writeOut(s, 0x0A0B_0C0D);
        assertLe(8, 0x0A0B_0C0DL, 4, "local_port out");
        assertUnchangedExcept(beforeOut, 8, 4);
        assertEquals(new BindInterdomain(0xBEEF, 0x8765_4321, 0x0A0B_0C0D), BindInterdomain.read(s));
    }

    @Test
    void bindInterdomainUnsignedAndFullWidth() {
        MemorySegment s = struct(EvtchnOp.BIND_INTERDOMAIN);
        new BindInterdomain(0xFFFF, 0xFFFF_FFFF, 0x8000_0000).write(s);
        BindInterdomain r = BindInterdomain.read(s);
        assertEquals(65535, r.remoteDom(), "u16 reads back unsigned");
        assertEquals(0xFFFF_FFFF, r.remotePort(), "u32 keeps all 32 bits");
        assertEquals(0x8000_0000, r.localPort(), "u32 keeps the top bit");
    }

    // ---- bind_virq: 0 virq u32, 4 vcpu u32, 8 port u32 (out) -----------------------------

    @Test
    void bindVirq() {
        assertEquals(0, BindVirq.VIRQ);
        assertEquals(4, BindVirq.VCPU);
        assertEquals(8, BindVirq.PORT);
        MemorySegment s = struct(EvtchnOp.BIND_VIRQ);
        byte[] before = snapshot();
        BindVirq v = new BindVirq(0x9A8B_7C6D, 0xC1C2_C3C4, 0xD1D2_D3D4);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.BIND_VIRQ);
        assertLe(0, 0x9A8B_7C6DL, 4, "virq");
        assertLe(4, 0xC1C2_C3C4L, 4, "vcpu");
        assertLe(8, 0xD1D2_D3D4L, 4, "port");
        assertEquals(v, BindVirq.read(s));

        byte[] beforeOut = snapshot();
        BindVirq.writeOut(s, 0x1122_3344);
        assertLe(8, 0x1122_3344L, 4, "port out");
        assertUnchangedExcept(beforeOut, 8, 4);
        assertEquals(new BindVirq(0x9A8B_7C6D, 0xC1C2_C3C4, 0x1122_3344), BindVirq.read(s));
    }

    @Test
    void bindVirqFullWidth() {
        MemorySegment s = struct(EvtchnOp.BIND_VIRQ);
        new BindVirq(0xFFFF_FFFF, 0x8000_0001, 0xFFFF_0000).write(s);
        assertEquals(new BindVirq(-1, 0x8000_0001, 0xFFFF_0000), BindVirq.read(s));
    }

    // ---- bind_pirq: 0 pirq u32, 4 flags u32, 8 port u32 (out) ----------------------------

    @Test
    void bindPirq() {
        assertEquals(0, BindPirq.PIRQ);
        assertEquals(4, BindPirq.FLAGS);
        assertEquals(8, BindPirq.PORT);
        assertEquals(1, BindPirq.WILL_SHARE, "BIND_PIRQ__WILL_SHARE");
        MemorySegment s = struct(EvtchnOp.BIND_PIRQ);
        byte[] before = snapshot();
        BindPirq v = new BindPirq(0xA1A2_A3A4, 0xB1B2_B3B4, 0xE1E2_E3E4);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.BIND_PIRQ);
        assertLe(0, 0xA1A2_A3A4L, 4, "pirq");
        assertLe(4, 0xB1B2_B3B4L, 4, "flags");
        assertLe(8, 0xE1E2_E3E4L, 4, "port");
        assertEquals(v, BindPirq.read(s));

        byte[] beforeOut = snapshot();
        BindPirq.writeOut(s, 0x5566_7788);
        assertLe(8, 0x5566_7788L, 4, "port out");
        assertUnchangedExcept(beforeOut, 8, 4);
        assertEquals(new BindPirq(0xA1A2_A3A4, 0xB1B2_B3B4, 0x5566_7788), BindPirq.read(s));
    }

    // ---- close: 0 port u32 ----------------------------------------------------------------

    @Test
    void close() {
        assertEquals(0, Close.PORT);
        MemorySegment s = struct(EvtchnOp.CLOSE);
        byte[] before = snapshot();
        Close v = new Close(0x8BAD_F00D);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.CLOSE);
        assertLe(0, 0x8BAD_F00DL, 4, "port");
        assertEquals(v, Close.read(s));
        new Close(0xFFFF_FFFF).write(s);
        assertEquals(-1, Close.read(s).port(), "u32 keeps all 32 bits");
    }

    // ---- send: 0 port u32 -----------------------------------------------------------------

    @Test
    void send() {
        assertEquals(0, Send.PORT);
        MemorySegment s = struct(EvtchnOp.SEND);
        byte[] before = snapshot();
        Send v = new Send(0xCAFE_BABE);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.SEND);
        assertLe(0, 0xCAFE_BABEL, 4, "port");
        assertEquals(v, Send.read(s));
    }

    // ---- status: 0 dom u16, 4 port u32, 8 status (out), 12 vcpu (out), 16/20 union (out) --

    @Test
    void status() {
        assertEquals(0, Status.DOM);
        assertEquals(4, Status.PORT);
        assertEquals(8, Status.STATUS);
        assertEquals(12, Status.VCPU);
        assertEquals(16, Status.UNION_A);
        assertEquals(20, Status.UNION_B);
        MemorySegment s = struct(EvtchnOp.STATUS);
        byte[] before = snapshot();
        Status v = new Status(0xFEDC, 0x8877_6655, 0x0000_0002, 0x9988_7766, 0xA5A4_7FF0, 0xF0E0_D0C0);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.STATUS);
        assertLe(0, 0xFEDC, 2, "dom");
        assertLe(4, 0x8877_6655L, 4, "port");
        assertLe(8, 2, 4, "status");
        assertLe(12, 0x9988_7766L, 4, "vcpu");
        assertLe(16, 0xA5A4_7FF0L, 4, "union @16");
        assertLe(20, 0xF0E0_D0C0L, 4, "union @20");
        assertEquals(v, Status.read(s));
        assertEquals(0x7FF0, Status.read(s).remoteDom(), "interdomain.dom is the u16 at 16");
    }

    /**
     * writeOut writes status and vcpu, and of the union only the member the status selects, as
     * Xen does (it copies the guest's struct in and the whole struct back out): the union's other
     * bytes, and the in fields, keep what the guest put there.
     */
    @Test
    void statusWriteOutOfAVirqWritesTheU32AtSixteenOnly() {
        MemorySegment s = struct(EvtchnOp.STATUS);
        new Status(0x1234, 0x0000_0042, 0, 0, 0, 0).write(s);
        byte[] before = snapshot();
        Status.writeOut(s, 4, 0x0102_0304, 0x1A1B_1C1D, 0x2A2B_2C2D);
        assertLe(8, 4, 4, "status out");
        assertLe(12, 0x0102_0304L, 4, "vcpu out");
        assertLe(16, 0x1A1B_1C1DL, 4, "virq out");
        assertUnchangedExcept(before, 8, 12);
        assertEquals(new Status(0x1234, 0x42, 4, 0x0102_0304, 0x1A1B_1C1D, 0), Status.read(s));
    }

    @Test
    void statusWriteOutOfAPirqWritesTheU32AtSixteenOnly() {
        MemorySegment s = struct(EvtchnOp.STATUS);
        byte[] before = snapshot();
        Status.writeOut(s, 3, 0, 0x0000_0123, 0x7777_7777);
        assertLe(8, 3, 4, "status out");
        assertLe(12, 0, 4, "vcpu out");
        assertLe(16, 0x123, 4, "pirq out");
        assertUnchangedExcept(before, 8, 12);
    }

    @Test
    void statusWriteOutOfAnInterdomainPortWritesDomAndPort() {
        MemorySegment s = struct(EvtchnOp.STATUS);
        byte[] before = snapshot();
        Status.writeOut(s, 2, 1, 0x7FF0, 0x8000_0FFF);
        assertLe(8, 2, 4, "status out");
        assertLe(12, 1, 4, "vcpu out");
        assertLe(16, 0x7FF0, 2, "interdomain.dom out");
        assertLe(20, 0x8000_0FFFL, 4, "interdomain.port out");
        assertUnchangedExcept(before, 8, 10, 20, 4); // bytes 18-19 (padding after the u16 dom) untouched
        Status r = Status.read(s);
        assertEquals(0x7FF0, r.remoteDom());
        assertEquals(0x8000_0FFF, r.unionB());
    }

    @Test
    void statusWriteOutOfAnUnboundPortWritesTheDomOnly() {
        MemorySegment s = struct(EvtchnOp.STATUS);
        byte[] before = snapshot();
        Status.writeOut(s, 1, 0x0000_0003, 0xFFFF, 0x5555_5555);
        assertLe(8, 1, 4, "status out");
        assertLe(12, 3, 4, "vcpu out");
        assertLe(16, 0xFFFF, 2, "unbound.dom out");
        assertUnchangedExcept(before, 8, 10);
        assertEquals(65535, Status.read(s).remoteDom(), "u16 reads back unsigned");
    }

    @Test
    void statusWriteOutOfAClosedOrIpiPortWritesNoUnionMember() {
        for (int status : new int[] {0, 5}) {
            fill();
            MemorySegment s = struct(EvtchnOp.STATUS);
            byte[] before = snapshot();
            Status.writeOut(s, status, 0x0000_0002, 0x1111_1111, 0x2222_2222);
            assertLe(8, status, 4, "status out");
            assertLe(12, 2, 4, "vcpu out");
            assertUnchangedExcept(before, 8, 8);
        }
    }

    @Test
    void statusU16DomIsUnsigned() {
        MemorySegment s = struct(EvtchnOp.STATUS);
        new Status(0xFFFF, -1, -1, -1, -1, -1).write(s);
        Status r = Status.read(s);
        assertEquals(65535, r.dom());
        assertEquals(-1, r.port(), "u32 keeps all 32 bits");
        assertEquals(65535, r.remoteDom(), "remoteDom is the unsigned low half of the union");
    }

    // ---- alloc_unbound: 0 dom u16, 2 remote_dom u16, 4 port u32 (out) ---------------------

    @Test
    void allocUnbound() {
        assertEquals(0, AllocUnbound.DOM);
        assertEquals(2, AllocUnbound.REMOTE_DOM);
        assertEquals(4, AllocUnbound.PORT);
        MemorySegment s = struct(EvtchnOp.ALLOC_UNBOUND);
        byte[] before = snapshot();
        AllocUnbound v = new AllocUnbound(0x7FF0, 0xABCD, 0x9192_9394);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.ALLOC_UNBOUND);
        assertLe(0, 0x7FF0, 2, "dom");
        assertLe(2, 0xABCD, 2, "remote_dom");
        assertLe(4, 0x9192_9394L, 4, "port");
        assertEquals(v, AllocUnbound.read(s));

        byte[] beforeOut = snapshot();
        AllocUnbound.writeOut(s, 0x0000_0FFF);
        assertLe(4, 0x0FFF, 4, "port out");
        assertUnchangedExcept(beforeOut, 4, 4);
        assertEquals(new AllocUnbound(0x7FF0, 0xABCD, 0x0FFF), AllocUnbound.read(s));
    }

    @Test
    void allocUnboundU16sAreUnsigned() {
        MemorySegment s = struct(EvtchnOp.ALLOC_UNBOUND);
        new AllocUnbound(0xFFFF, 0x8000, 0xFFFF_FFFF).write(s);
        AllocUnbound r = AllocUnbound.read(s);
        assertEquals(65535, r.dom());
        assertEquals(32768, r.remoteDom());
        assertEquals(0xFFFF_FFFF, r.port());
    }

    // ---- bind_ipi: 0 vcpu u32, 4 port u32 (out) -------------------------------------------

    @Test
    void bindIpi() {
        assertEquals(0, BindIpi.VCPU);
        assertEquals(4, BindIpi.PORT);
        MemorySegment s = struct(EvtchnOp.BIND_IPI);
        byte[] before = snapshot();
        BindIpi v = new BindIpi(0x8001_0203, 0xFAFB_FCFD);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.BIND_IPI);
        assertLe(0, 0x8001_0203L, 4, "vcpu");
        assertLe(4, 0xFAFB_FCFDL, 4, "port");
        assertEquals(v, BindIpi.read(s));

        byte[] beforeOut = snapshot();
        BindIpi.writeOut(s, 0x0000_0123);
        assertLe(4, 0x123, 4, "port out");
        assertUnchangedExcept(beforeOut, 4, 4);
        assertEquals(new BindIpi(0x8001_0203, 0x123), BindIpi.read(s));
    }

    // ---- bind_vcpu: 0 port u32, 4 vcpu u32 ------------------------------------------------

    @Test
    void bindVcpu() {
        assertEquals(0, BindVcpu.PORT);
        assertEquals(4, BindVcpu.VCPU);
        MemorySegment s = struct(EvtchnOp.BIND_VCPU);
        byte[] before = snapshot();
        BindVcpu v = new BindVcpu(0x1357_9BDF, 0xECA8_6420);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.BIND_VCPU);
        assertLe(0, 0x1357_9BDFL, 4, "port");
        assertLe(4, 0xECA8_6420L, 4, "vcpu");
        assertEquals(v, BindVcpu.read(s));
    }

    // ---- unmask: 0 port u32 ---------------------------------------------------------------

    @Test
    void unmask() {
        assertEquals(0, Unmask.PORT);
        MemorySegment s = struct(EvtchnOp.UNMASK);
        byte[] before = snapshot();
        Unmask v = new Unmask(0xDEAD_BEEF);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.UNMASK);
        assertLe(0, 0xDEAD_BEEFL, 4, "port");
        assertEquals(v, Unmask.read(s));
    }

    // ---- reset: 0 dom u16 (2 bytes in all) ------------------------------------------------

    @Test
    void reset() {
        assertEquals(0, Reset.DOM);
        MemorySegment s = struct(EvtchnOp.RESET);
        byte[] before = snapshot();
        Reset v = new Reset(0x7FF0);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.RESET);
        assertLe(0, 0x7FF0, 2, "dom");
        assertEquals(v, Reset.read(s));
        new Reset(0xFFFF).write(s);
        assertEquals(65535, Reset.read(s).dom(), "u16 reads back unsigned");
    }

    // ---- init_control: 0 control_gfn u64, 8 offset u32, 12 vcpu u32, 16 link_bits u8 (out), pad[7]

    @Test
    void initControl() {
        assertEquals(0, InitControl.CONTROL_GFN);
        assertEquals(8, InitControl.OFFSET);
        assertEquals(12, InitControl.VCPU);
        assertEquals(16, InitControl.LINK_BITS);
        MemorySegment s = struct(EvtchnOp.INIT_CONTROL);
        byte[] before = snapshot();
        InitControl v = new InitControl(0xF0E1_D2C3_B4A5_9687L, 0x8000_0FC0, 0x7654_3210, 0xF1);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.INIT_CONTROL);
        assertLe(0, 0xF0E1_D2C3_B4A5_9687L, 8, "control_gfn");
        assertLe(8, 0x8000_0FC0L, 4, "offset");
        assertLe(12, 0x7654_3210L, 4, "vcpu");
        assertLe(16, 0xF1, 1, "link_bits");
        assertEquals(v, InitControl.read(s));
        assertEquals(241, InitControl.read(s).linkBits(), "u8 reads back unsigned");

        byte[] beforeOut = snapshot();
        InitControl.writeOut(s, 17);
        assertLe(16, 17, 1, "link_bits out");
        assertUnchangedExcept(beforeOut, 16, 1);
        assertEquals(new InitControl(0xF0E1_D2C3_B4A5_9687L, 0x8000_0FC0, 0x7654_3210, 17), InitControl.read(s));
    }

    // ---- expand_array: 0 array_gfn u64 ----------------------------------------------------

    @Test
    void expandArray() {
        assertEquals(0, ExpandArray.ARRAY_GFN);
        MemorySegment s = struct(EvtchnOp.EXPAND_ARRAY);
        byte[] before = snapshot();
        ExpandArray v = new ExpandArray(0x8877_6655_4433_2211L);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.EXPAND_ARRAY);
        assertLe(0, 0x8877_6655_4433_2211L, 8, "array_gfn");
        assertEquals(v, ExpandArray.read(s));
        new ExpandArray(-1L).write(s);
        assertEquals(-1L, ExpandArray.read(s).arrayGfn(), "u64 keeps all 64 bits");
    }

    // ---- set_priority: 0 port u32, 4 priority u32 -----------------------------------------

    @Test
    void setPriority() {
        assertEquals(0, SetPriority.PORT);
        assertEquals(4, SetPriority.PRIORITY);
        MemorySegment s = struct(EvtchnOp.SET_PRIORITY);
        byte[] before = snapshot();
        SetPriority v = new SetPriority(0x9ABC_DEF0, 0x8000_000F);
        v.write(s);
        assertOutsideUnchanged(before, EvtchnOp.SET_PRIORITY);
        assertLe(0, 0x9ABC_DEF0L, 4, "port");
        assertLe(4, 0x8000_000FL, 4, "priority");
        assertEquals(v, SetPriority.read(s));
    }

    // ---- the struct sizes bound the codecs ------------------------------------------------

    @Test
    void codecsStayInsideTheirArgumentSize() {
        // a struct one byte short of the op's size must be refused, proving the last field ends at argSize
        assertThrows(IndexOutOfBoundsException.class,
                () -> BindInterdomain.read(buf.asSlice(OFF, EvtchnOp.BIND_INTERDOMAIN.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> BindVirq.read(buf.asSlice(OFF, EvtchnOp.BIND_VIRQ.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> BindPirq.read(buf.asSlice(OFF, EvtchnOp.BIND_PIRQ.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Close.read(buf.asSlice(OFF, EvtchnOp.CLOSE.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Send.read(buf.asSlice(OFF, EvtchnOp.SEND.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Status.read(buf.asSlice(OFF, EvtchnOp.STATUS.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> AllocUnbound.read(buf.asSlice(OFF, EvtchnOp.ALLOC_UNBOUND.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> BindIpi.read(buf.asSlice(OFF, EvtchnOp.BIND_IPI.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> BindVcpu.read(buf.asSlice(OFF, EvtchnOp.BIND_VCPU.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Unmask.read(buf.asSlice(OFF, EvtchnOp.UNMASK.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> Reset.read(buf.asSlice(OFF, EvtchnOp.RESET.argSize() - 1)));
        // init_control's last 7 bytes are padding: its last field, link_bits, ends at 17
        assertThrows(IndexOutOfBoundsException.class,
                () -> InitControl.read(buf.asSlice(OFF, 16)));
        assertEquals(0, InitControl.read(buf.asSlice(OFF, EvtchnOp.INIT_CONTROL.argSize())).linkBits() & ~0xFF);
        assertThrows(IndexOutOfBoundsException.class,
                () -> ExpandArray.read(buf.asSlice(OFF, EvtchnOp.EXPAND_ARRAY.argSize() - 1)));
        assertThrows(IndexOutOfBoundsException.class,
                () -> SetPriority.read(buf.asSlice(OFF, EvtchnOp.SET_PRIORITY.argSize() - 1)));
    }

    @Test
    void readsAreLittleEndianFromGuestBytes() {
        // a guest writes the bytes itself; the codec must decode them, not just round-trip its own writes
        MemorySegment s = struct(EvtchnOp.BIND_INTERDOMAIN);
        byte[] guest = {0x34, 0x12, 0x55, 0x55, 0x78, 0x56, 0x34, (byte) 0x92, 0x01, 0x00, 0x00, (byte) 0x80};
        MemorySegment.copy(guest, 0, s, ValueLayout.JAVA_BYTE, 0, guest.length);
        BindInterdomain r = BindInterdomain.read(s);
        assertEquals(0x1234, r.remoteDom(), "padding bytes 2-3 are not part of remote_dom");
        assertEquals(0x9234_5678, r.remotePort());
        assertEquals(0x8000_0001, r.localPort());
        assertArrayEquals(guest, s.toArray(ValueLayout.JAVA_BYTE), "read does not write");
    }
}
