package launcher;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** Packed into a test bundle by {@link MainTest}: its start always fails. */
public class FailingActivator implements BundleActivator {
    static final String MESSAGE = "FailingActivator refuses to start";

    @Override
    public void start(BundleContext context) {
        throw new IllegalStateException(MESSAGE);
    }

    @Override
    public void stop(BundleContext context) {
    }
}
