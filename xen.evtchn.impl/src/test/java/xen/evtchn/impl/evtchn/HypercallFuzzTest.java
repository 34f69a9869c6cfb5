package xen.evtchn.impl.evtchn;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The hypercall surface fuzzed ({@link HypercallFuzzTarget}). In the normal suite: a short run of
 * random inputs (-Dfuzz.inputs=N, default 2000; -Dfuzz.seed=S repeats a run), a short run on two
 * vCPUs at once (-Dfuzz.twoVcpuInputs=N, default 300: a few seconds; threads interleave as they
 * will, so a seed repeats the inputs but not always their interleaving), and Jazzer replays its
 * corpus (none yet). Long: {@code -Dfuzz.inputs=1000000}, or Jazzer's own fuzzing,
 * {@code JAZZER_FUZZ=1 ./xen-evtchn test -pl xen.evtchn.impl -am -Dtest='HypercallFuzzTest#jazzer'
 * -Dsurefire.failIfNoSpecifiedTests=false} (5 minutes). Jazzer 0.24 cannot instrument Java 25
 * class files ("Failed to instrument"), so on this build it mutates without coverage feedback.
 */
class HypercallFuzzTest {
    @Test
    void randomInputsKeepTheHostsInvariants() {
        int inputs = Integer.getInteger("fuzz.inputs", 2000);
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < inputs; i++) {
            byte[] input = new byte[random.nextInt(1, 2048)];
            random.nextBytes(input);
            try {
                HypercallFuzzTarget.run(input);
            } catch (AssertionError e) {
                throw new AssertionError("input " + i + " of -Dfuzz.seed=" + seed + ": " + e.getMessage(), e);
            }
        }
    }

    @Test
    void randomInputsOnTwoVcpusAtOnceKeepTheHostsInvariants() {
        int inputs = Integer.getInteger("fuzz.twoVcpuInputs", 300);
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < inputs; i++) {
            byte[] input = new byte[random.nextInt(1, 4096)];
            random.nextBytes(input);
            try {
                HypercallFuzzTarget.runTwoVcpus(input);
            } catch (AssertionError e) {
                throw new AssertionError("two-vCPU input " + i + " of -Dfuzz.seed=" + seed + ": " + e.getMessage(), e);
            }
        }
    }

    @FuzzTest
    void jazzer(byte[] input) {
        HypercallFuzzTarget.run(input);
    }
}
