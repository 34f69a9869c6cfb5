package itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import launcher.RunDescription;
import org.ops4j.pax.exam.Option;

/**
 * The host's runtime for Pax Exam, as cnf/host.bndrun describes it (without the launcher's shell
 * part: no console reader): its bundles, picked by symbolic name from the test's jars that Failsafe
 * passes (-Ditests.jars; no mvn: URLs, so it works offline), and its framework properties. Runs in
 * the test's JVM, where Pax Exam reads the configuration, never inside the framework.
 */
final class HostOptions {
    private HostOptions() {
    }

    static Option[] runtime() {
        List<Option> all = new ArrayList<>();
        try {
            RunDescription host = RunDescription.read(Path.of(property("itests.bndrun")));
            List<Path> jars = Arrays.stream(property("itests.jars").split(File.pathSeparator)).map(Path::of).toList();
            for (Path jar : host.select(jars)) {
                all.add(bundle(jar.toUri().toString()));
            }
            for (Map.Entry<String, String> p : host.properties().entrySet()) {
                all.add(frameworkProperty(p.getKey()).value(p.getValue()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        all.add(junitBundles());
        return options(all.toArray(Option[]::new));
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("Failsafe passes -D" + name + " (itests/pom.xml)");
        }
        return value;
    }
}
