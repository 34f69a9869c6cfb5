package linux.guest;

import static linux.guest.LinuxSession.COMMAND;
import static linux.guest.LinuxSession.PROMPT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kvm.provider.xen.KvmGuest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import xen.evtchn.api.abi.SchedOp;

/**
 * The measure of the project: Debian's stock cloud kernel boots on these event channels to a
 * busybox shell on hvc0, with 1 and 2 vCPUs; commands typed through the console ring run, its
 * Xen timer and IPI event channels count on every CPU, and poweroff ends the domain.
 */
class LinuxOnKvmTest {
    private StockLinux.Guest linux;

    /** Per test, so that a skip is reported as one; the kernel is fetched once and cached. */
    @BeforeEach
    void kvmAndDebiansKernel() throws IOException {
        linux = LinuxSession.stockLinux();
    }

    @ParameterizedTest(name = "{0} vCPU(s)")
    @ValueSource(ints = {1, 2})
    void bootsToAShellRunsCommandsAndPowersOff(int vcpus) throws Exception {
        try (LinuxSession s = new LinuxSession(linux, vcpus)) {
            s.awaitShell();
            s.type("uname -r");
            s.expect("^" + Pattern.quote(linux.release()) + "\\r?$", COMMAND);
            s.expect(PROMPT, COMMAND);

            s.type("cat /proc/interrupts");
            s.expect("^\\s+CPU0", COMMAND);
            Matcher end = s.expect(PROMPT, COMMAND);
            String interrupts = s.printed().substring(0, end.start());
            interrupts = interrupts.substring(interrupts.lastIndexOf("CPU0"));
            for (int cpu = 0; cpu < vcpus; cpu++) {
                assertTrue(counts(interrupts, "timer" + cpu, cpu) > 0,
                        "cpu" + cpu + "'s Xen timer event channel counted on it:\n" + interrupts + "\n" + s);
                assertTrue(interrupts.contains("resched" + cpu), "cpu" + cpu + "'s reschedule IPI:\n" + interrupts);
            }
            if (vcpus > 1) {
                assertTrue(counts(interrupts, "resched1", 1) + counts(interrupts, "callfunc1", 1) > 0,
                        "IPIs reached cpu1:\n" + interrupts);
            }

            s.type("poweroff -f");
            KvmGuest.Outcome outcome = s.guest.await(COMMAND);
            assertNotNull(outcome, () -> "still running after poweroff -f\n" + s);
            assertEquals(new KvmGuest.Outcome(SchedOp.SHUTDOWN_POWEROFF, null), outcome, s::toString);
        }
    }

    /** The count in {@code cpu}'s column of the /proc/interrupts line that ends with {@code name}. */
    static long counts(String interrupts, String name, int cpu) {
        for (String line : interrupts.split("\\r?\\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length > cpu + 1 && f[f.length - 1].equals(name) && f[0].endsWith(":")) {
                return Long.parseLong(f[1 + cpu]);
            }
        }
        return -1;
    }
}
