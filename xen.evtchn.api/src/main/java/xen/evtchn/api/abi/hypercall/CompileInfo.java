package xen.evtchn.api.abi.hypercall;

import java.lang.foreign.MemorySegment;

/**
 * xen_compile_info_t (XENVER_compile_info): 0 compiler char[64], 64 compile_by char[16],
 * 80 compile_domain char[32], 112 compile_date char[32]; {@value #SIZE} bytes in both widths.
 * Every field is NUL-terminated and NUL-padded ({@link XenString}).
 */
public record CompileInfo(String compiler, String compileBy, String compileDomain, String compileDate) {
    public static final int COMPILER = 0;
    public static final int COMPILER_LEN = 64;
    public static final int COMPILE_BY = 64;
    public static final int COMPILE_BY_LEN = 16;
    public static final int COMPILE_DOMAIN = 80;
    public static final int COMPILE_DOMAIN_LEN = 32;
    public static final int COMPILE_DATE = 112;
    public static final int COMPILE_DATE_LEN = 32;
    public static final int SIZE = 144;

    public static CompileInfo read(MemorySegment s) {
        return new CompileInfo(XenString.read(s.asSlice(COMPILER), COMPILER_LEN),
                XenString.read(s.asSlice(COMPILE_BY), COMPILE_BY_LEN),
                XenString.read(s.asSlice(COMPILE_DOMAIN), COMPILE_DOMAIN_LEN),
                XenString.read(s.asSlice(COMPILE_DATE), COMPILE_DATE_LEN));
    }

    /** The {@value #SIZE} bytes Xen writes for these strings. */
    public byte[] encode() {
        byte[] out = new byte[SIZE];
        put(out, COMPILER, compiler, COMPILER_LEN);
        put(out, COMPILE_BY, compileBy, COMPILE_BY_LEN);
        put(out, COMPILE_DOMAIN, compileDomain, COMPILE_DOMAIN_LEN);
        put(out, COMPILE_DATE, compileDate, COMPILE_DATE_LEN);
        return out;
    }

    public void write(MemorySegment s) {
        XenString.write(s, encode());
    }

    private static void put(byte[] out, int at, String value, int length) {
        System.arraycopy(XenString.encode(value, length), 0, out, at, length);
    }
}
