package itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.options;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.ops4j.pax.exam.Option;

/**
 * The host's runtime for Pax Exam, as cnf/host.bndrun describes it (-runbundles without the
 * launcher's -runbundles.shell: no console reader), which Failsafe names (-Ditests.bndrun): its
 * bundles, in order, found by symbolic name among the test's jars ({@link Host#jar}; no mvn: URLs,
 * so it works offline), and its -runproperties. It reads the symbolic names and name=value pairs
 * that file holds, as the launcher's RunDescription does (the launcher's jar stays off this class
 * path: its manifest's Class-Path would bring Felix into the Equinox run).
 */
final class HostOptions {
    private HostOptions() {
    }

    static Option[] runtime() {
        String file = System.getProperty("itests.bndrun");
        if (file == null) {
            throw new IllegalStateException("Failsafe passes -Ditests.bndrun (itests/pom.xml)");
        }
        Properties bndrun = new Properties();
        List<Option> all = new ArrayList<>();
        try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            bndrun.load(in);
            for (String bsn : list(bndrun.getProperty("-runbundles", ""))) {
                all.add(bundle(Host.jar(bsn).toUri().toString()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String pair : list(bndrun.getProperty("-runproperties", ""))) {
            String[] nameValue = pair.split("=", 2);
            all.add(frameworkProperty(nameValue[0].strip()).value(nameValue.length > 1 ? nameValue[1].strip() : ""));
        }
        all.add(junitBundles());
        return options(all.toArray(Option[]::new));
    }

    private static List<String> list(String value) {
        return List.of(value.split(",")).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
