package test.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Optional;

/**
 * The test guest image, {@code xentest.elf}: an unmodified-PVH x86-64 ELF kernel (linked and
 * loaded at guest-physical {@link #LOAD_ADDRESS}, entered in 32-bit protected mode through its
 * XEN_ELFNOTE_PHYS32_ENTRY note with ebx = the hvm_start_info address) that checks the Xen ABI
 * from inside, XTF-style. It prints one line per check on console_io, {@code "PASS: <step>"},
 * or {@code "FAIL: <what>: got 0x<value>"} and then {@link #FAILURE} and shuts down with
 * SCHEDOP_shutdown(crash); a clean run ends with {@link #SUCCESS} and SCHEDOP_shutdown(poweroff).
 * The start info command line selects the mode: {@link #DEFAULT}, {@link #bench(long)},
 * {@link #HOSTILE_TRIPLE_FAULT}, {@link #HOSTILE_RING3}, {@link #HOSTILE_BAD_ARGS}.
 * <p>
 * It comes in two {@link Variant}s, one for each way the host traps hypercalls. The build
 * assembles them with the machine's gcc/as/ld ({@code src/main/guest/build.sh}); where that
 * toolchain is missing the jar has no image and {@link #bytes()} is empty.
 */
public final class TestGuestImage {
    /** Where the image is on the class path (and in the bundle). */
    public static final String RESOURCE = "test/guest/xentest.elf";

    /** How the guest calls Xen. */
    public enum Variant {
        /** Through the hypercall page (and XEN_ELFNOTE_HYPERCALL_PAGE says so): {@link #RESOURCE}. */
        HYPERCALL_PAGE(RESOURCE),
        /** With VMCALL/VMMCALL in functions of their own, as every current Linux: xentest-vmcall.elf. */
        VMCALL("test/guest/xentest-vmcall.elf");

        public final String resource;

        Variant(String resource) {
            this.resource = resource;
        }
    }

    /** The guest-physical address the image is linked and loaded at (1 MiB). */
    public static final long LOAD_ADDRESS = 0x100000L;
    /** The vector the guest asks for with HVM_PARAM_CALLBACK_IRQ (type 2, vector). */
    public static final int UPCALL_VECTOR = 0xf3;

    /** The last console line of a clean run, before SCHEDOP_shutdown(poweroff). */
    public static final String SUCCESS = "Test result: SUCCESS";
    /** The last console line of a failed run, before SCHEDOP_shutdown(crash). */
    public static final String FAILURE = "Test result: FAILURE";
    /** The start of a failed check's line: {@code "FAIL: <what>: got 0x<value>"}. */
    public static final String FAIL_PREFIX = "FAIL: ";
    /** The start of a passed check's line. */
    public static final String PASS_PREFIX = "PASS: ";

    /** The command line of the event channel checks (default mode). */
    public static final String DEFAULT = "";
    /** Command line: lidt of a zero-limit IDT, then an exception: the host must report a triple fault. */
    public static final String HOSTILE_TRIPLE_FAULT = "hostile=triple-fault";
    /** Command line: xen_version and console_io from ring 3 must get -EPERM. */
    public static final String HOSTILE_RING3 = "hostile=ring3";
    /** Command line: hypercalls with bad arguments must fail cleanly. */
    public static final String HOSTILE_BAD_ARGS = "hostile=bad-args";

    /** I/O port of the guest's early debug output (before the hypercall page, or if console_io fails). */
    public static final int DEBUG_PORT = 0xe9;
    /** bench=N: the port of the N bare 4-byte OUTs of phase 1. */
    public static final int BENCH_PORT = 0x80;
    /** bench=N: the port of the markers (4-byte OUT, eax = {@link #MARKER_START}, ...). */
    public static final int BENCH_MARKER_PORT = 0x81;
    /** bench=N: before the N bare OUTs. */
    public static final int MARKER_START = 1;
    /** bench=N: after the N bare OUTs, before the N (clear pending bit; EVTCHNOP_send). */
    public static final int MARKER_OUTS_DONE = 2;
    /** bench=N: after the N sends, before N times the same guest work calling a stub of its own (out to {@link #BENCH_PORT}). */
    public static final int MARKER_SENDS_DONE = 3;
    /** bench=N: after the N null-stub calls, before the N sends again through the hypercall page. */
    public static final int MARKER_NULLS_DONE = 4;
    /**
     * bench=N: after the N sends through the hypercall page (in the {@link Variant#VMCALL} build
     * the other way of calling Xen than the sends of phase 2, in the same guest and round).
     */
    public static final int MARKER_PAGE_SENDS_DONE = 5;
    /** bench=N: markers a round, 1 to 5. */
    public static final int BENCH_MARKERS = 5;
    /** bench=N: how many rounds of the markers. */
    public static final int BENCH_ROUNDS = 5;

    /** The PASS lines (without {@link #PASS_PREFIX}) of a clean run of {@link #DEFAULT}, in order. */
    public static final List<String> DEFAULT_PASSES = List.of(
            "start info", "hypercall page", "shared_info", "vcpu_info", "callback vector",
            "VIRQ_TIMER", "IPI", "masked port", "poll timeout", "poll wakeup",
            "interdomain loopback", "status and close");
    /** The PASS lines of a clean run of {@link #bench(long)}. */
    public static final List<String> BENCH_PASSES = List.of(
            "start info", "hypercall page", "shared_info", "vcpu_info", "bench setup", "bench");
    /** The PASS lines of a clean run of {@link #HOSTILE_RING3}. */
    public static final List<String> RING3_PASSES = List.of(
            "start info", "hypercall page", "ring-3 xen_version -EPERM", "ring-3 console_io -EPERM");
    /** The PASS lines of a clean run of {@link #HOSTILE_BAD_ARGS}. */
    public static final List<String> BAD_ARGS_PASSES = List.of(
            "start info", "hypercall page", "shared_info", "vcpu_info",
            "unknown hypercall -ENOSYS", "unknown event_channel_op -ENOSYS",
            "unmapped argument -EFAULT", "non-canonical argument -EFAULT",
            "argument beyond RAM -EFAULT", "send to bad ports -EINVAL", "poll of 129 ports -EINVAL",
            "console_io of an unmapped buffer refused", "shared_info beyond RAM refused",
            "hypercall page beyond RAM #GP", "guest intact");

    private TestGuestImage() {
    }

    /** The command line of the benchmark mode: {@code bench=N}, {@code 0 <= n < 2^32}. */
    public static String bench(long n) {
        if (n < 0 || n > 0xffff_ffffL) {
            throw new IllegalArgumentException("bench count must be in [0, 2^32): " + n);
        }
        return "bench=" + n;
    }

    /** The hypercall-page image's bytes (a fresh copy), or empty if the build could not assemble it. */
    public static Optional<byte[]> bytes() {
        return bytes(Variant.HYPERCALL_PAGE);
    }

    /** The bytes of {@code variant} (a fresh copy), or empty if the build could not assemble it. */
    public static Optional<byte[]> bytes(Variant variant) {
        try (InputStream in = TestGuestImage.class.getResourceAsStream("/" + variant.resource)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + variant.resource, e);
        }
    }
}
