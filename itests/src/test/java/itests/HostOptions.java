package itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ops4j.pax.exam.Option;

/**
 * The host's runtime for Pax Exam: the real bundle jars, by the paths Failsafe passes as
 * {@code bundle.ARTIFACT} system properties (no mvn: URLs, so it works offline).
 */
final class HostOptions {
    /** The runtime bundles, in the launcher's set. */
    static final List<String> RUNTIME = List.of("org.osgi.util.function", "org.osgi.util.promise",
            "org.osgi.service.component", "org.apache.felix.scr", "org.apache.felix.configadmin",
            "org.apache.felix.gogo.runtime", "xen.evtchn.api", "xen.evtchn.impl", "kvm.provider", "reference.guest", "xen.console");

    private HostOptions() {
    }

    /** The path of a bundle jar the build made or resolved. */
    static Path jar(String artifact) {
        String path = System.getProperty("bundle." + artifact);
        if (path == null || !Files.isRegularFile(Path.of(path))) {
            throw new IllegalStateException("Failsafe passes -Dbundle." + artifact + " (the jar's path): got " + path);
        }
        return Path.of(path);
    }

    static Option[] runtime() {
        List<Option> all = new ArrayList<>();
        for (String artifact : RUNTIME) {
            all.add(bundle(jar(artifact).toUri().toString()));
        }
        all.add(junitBundles());
        // No console reader: there is no shell bundle, but say so for any that comes.
        all.add(frameworkProperty("gosh.args").value("--nointeractive"));
        return options(all.toArray(Option[]::new));
    }
}
