package xen.evtchn.impl.evtchn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The restore stream fuzzed ({@link RestoreFuzzTarget}), as {@link HypercallFuzzTest} fuzzes the
 * hypercalls: a short run in the normal suite (-Dfuzz.inputs=N, default 5000; -Dfuzz.seed=S), a
 * long one with -Dfuzz.inputs=5000000, or Jazzer with {@code JAZZER_FUZZ=1 ... -Dtest='RestoreFuzzTest#jazzer'}.
 */
class RestoreFuzzTest {
    @Test
    void everySeedRestores() {
        for (byte[] seed : RestoreFuzzTarget.SEEDS) {
            assertTrue(RestoreCheck.check(seed, null), "a host's own stream restores on a fresh host");
        }
    }

    @Test
    void changedStreamsAreRefusedOrRestoreWhole() {
        int inputs = Integer.getInteger("fuzz.inputs", 5000);
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        SplittableRandom random = new SplittableRandom(seed);
        int restored = 0;
        for (int i = 0; i < inputs; i++) {
            byte[] input = new byte[random.nextInt(4, 64)];
            random.nextBytes(input);
            try {
                restored += RestoreFuzzTarget.run(input) ? 1 : 0;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("input " + i + " of -Dfuzz.seed=" + seed + ": " + e, e);
            }
        }
        System.out.printf("restore fuzzing: %d inputs, %d restored, %d refused (-Dfuzz.seed=%d)%n", inputs, restored,
                inputs - restored, seed);
        // Both sides reached: changes that the checksum passes and the reader accepts, and refusals.
        assertTrue(restored > 0 && restored < inputs, restored + " of " + inputs + " restored");
    }

    @FuzzTest
    void jazzer(byte[] input) {
        RestoreFuzzTarget.run(input);
    }
}
