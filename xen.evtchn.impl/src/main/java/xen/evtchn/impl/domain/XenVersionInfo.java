package xen.evtchn.impl.domain;

import java.util.Objects;
import xen.evtchn.api.abi.XenVer;
import xen.evtchn.api.abi.hypercall.CompileInfo;
import xen.evtchn.api.abi.hypercall.XenString;

/**
 * The Xen a domain believes it runs on, as xen_version reports it: the version number and the
 * strings. The strings are encoded once, here, so that the hypercall only copies bytes.
 */
public final class XenVersionInfo {
    /**
     * What Xen built with HVM support and without PV puts in XENVER_capabilities (its
     * init_xen_cap_info: one entry per HVM guest ABI, each followed by a space).
     */
    public static final String HVM_CAPABILITIES = "hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64 ";

    /** Xen 4.17.0, as the project's Java hypervisor. */
    public static final XenVersionInfo DEFAULT = new XenVersionInfo(4, 17, ".0-java",
            new CompileInfo("javac", "xen.evtchn", "java", "unknown"), HVM_CAPABILITIES, "unavailable");

    private final int major;
    private final int minor;
    private final String extraVersion;
    private final CompileInfo compileInfo;
    private final String capabilities;
    private final String changeset;
    private final byte[] extraVersionBytes;
    private final byte[] compileInfoBytes;
    private final byte[] capabilitiesBytes;
    private final byte[] changesetBytes;

    /**
     * @param major 0..32767 (XENVER_version returns it in bits 30..16 of a positive int)
     * @param minor 0..65535
     * @param extraVersion e.g. ".0-java"; cut to 15 characters
     */
    public XenVersionInfo(int major, int minor, String extraVersion, CompileInfo compileInfo, String capabilities,
            String changeset) {
        if (major < 0 || major > 0x7FFF || minor < 0 || minor > 0xFFFF) {
            throw new IllegalArgumentException("Xen version " + major + "." + minor + " does not fit XENVER_version");
        }
        this.major = major;
        this.minor = minor;
        this.extraVersion = Objects.requireNonNull(extraVersion, "extraVersion");
        this.compileInfo = Objects.requireNonNull(compileInfo, "compileInfo");
        this.capabilities = Objects.requireNonNull(capabilities, "capabilities");
        this.changeset = Objects.requireNonNull(changeset, "changeset");
        this.extraVersionBytes = XenString.encode(extraVersion, XenVer.EXTRAVERSION_LEN);
        this.compileInfoBytes = compileInfo.encode();
        this.capabilitiesBytes = XenString.encode(capabilities, XenVer.CAPABILITIES_LEN);
        this.changesetBytes = XenString.encode(changeset, XenVer.CHANGESET_LEN);
    }

    /**
     * {@link #DEFAULT} with the version "major.minor" (e.g. "4.19"), as a configuration gives it.
     *
     * @throws IllegalArgumentException naming the value, if it is not two decimal numbers in range
     */
    public static XenVersionInfo parse(String version) {
        String v = version.strip();
        int dot = v.indexOf('.');
        try {
            if (dot > 0 && dot < 6 && v.length() - dot <= 6 && v.indexOf('.', dot + 1) < 0) {
                return DEFAULT.withVersion(Integer.parseInt(v, 0, dot, 10), Integer.parseInt(v, dot + 1, v.length(), 10));
            }
        } catch (IllegalArgumentException notNumbersInRange) {
            // NumberFormatException too; the message below says what is wanted
        }
        throw new IllegalArgumentException("a Xen version is major.minor (major 0..32767, minor 0..65535), e.g. 4.17: got \""
                + (v.length() > 20 ? v.substring(0, 20) + "..." : v) + "\"");
    }

    /** This one with another version number, e.g. {@code DEFAULT.withVersion(4, 19)}. */
    public XenVersionInfo withVersion(int major, int minor) {
        return new XenVersionInfo(major, minor, extraVersion, compileInfo, capabilities, changeset);
    }

    public int major() {
        return major;
    }

    public int minor() {
        return minor;
    }

    /** What XENVER_version returns: (major &lt;&lt; 16) | minor. */
    public int version() {
        return major << 16 | minor;
    }

    public String extraVersion() {
        return extraVersion;
    }

    public CompileInfo compileInfo() {
        return compileInfo;
    }

    public String capabilities() {
        return capabilities;
    }

    public String changeset() {
        return changeset;
    }

    public byte[] extraVersionBytes() {
        return extraVersionBytes;
    }

    public byte[] compileInfoBytes() {
        return compileInfoBytes;
    }

    public byte[] capabilitiesBytes() {
        return capabilitiesBytes;
    }

    public byte[] changesetBytes() {
        return changesetBytes;
    }

    @Override
    public String toString() {
        return "Xen " + major + "." + minor + extraVersion;
    }
}
