package xen.evtchn.api.abi.hypercall;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The fixed-size char arrays of xen_version (xen_extraversion_t, xen_capabilities_info_t,
 * xen_changeset_info_t and the fields of xen_compile_info_t). Xen fills them as safe_strcpy into
 * a zeroed array: at most {@code length - 1} characters, then NUL bytes to the end, so the guest
 * always finds a terminator. Encode once, write the bytes on every call.
 */
public final class XenString {
    private XenString() {
    }

    /**
     * {@code value} as the array of {@code length} bytes Xen writes: ASCII (other characters
     * become '?'), cut to {@code length - 1} characters, NUL-padded.
     */
    public static byte[] encode(String value, int length) {
        if (length < 1) {
            throw new IllegalArgumentException("a char array holds at least its NUL: length " + length);
        }
        byte[] out = new byte[length];
        int n = Math.min(value.length(), length - 1);
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            out[i] = c < 0x80 ? (byte) c : (byte) '?';
        }
        return out;
    }

    /** Writes an encoded array at the start of {@code s} (all of its bytes, padding included). */
    public static void write(MemorySegment s, byte[] encoded) {
        MemorySegment.copy(encoded, 0, s, ValueLayout.JAVA_BYTE, 0, encoded.length);
    }

    /** The characters of the {@code length}-byte array at the start of {@code s}, up to its first NUL. */
    public static String read(MemorySegment s, int length) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < length; i++) {
            byte c = s.get(ValueLayout.JAVA_BYTE, i);
            if (c == 0) {
                break;
            }
            b.append((char) (c & 0xFF));
        }
        return b.toString();
    }
}
