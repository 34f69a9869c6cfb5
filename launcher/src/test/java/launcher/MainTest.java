package launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the launcher in-process against broken bundle directories; {@link MainIT} runs the real ones. */
class MainTest {
    record Result(int status, String out, String err) {
    }

    static Result launch(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, tee(out, System.out), tee(err, System.err));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Captures what the launcher prints and still shows it in the test report. */
    private static PrintStream tee(ByteArrayOutputStream capture, PrintStream echo) {
        return new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                capture.write(b);
                echo.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                capture.write(b, off, len);
                echo.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8);
    }

    /** symbolic-name -> state, from the bundle table. */
    static Map<String, String> table(String out) {
        Map<String, String> states = new HashMap<>();
        for (String line : out.lines().toList()) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length == 4 && cols[0].matches("\\d+")) {
                states.put(cols[2], cols[1]);
            }
        }
        return states;
    }

    @Test
    void failsAndNamesABundleThatCannotResolve(@TempDir Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test.broken");
        main.putValue("Bundle-Version", "1.2.3");
        main.putValue("Import-Package", "no.such.pkg;version=\"[1,2)\"");
        new JarOutputStream(Files.newOutputStream(dir.resolve("broken.jar")), manifest).close();

        Result result = launch("--bundles", dir.toString(), "--timeout", "2");

        assertEquals(1, result.status());
        assertEquals("INSTALLED", table(result.out()).get("test.broken"), result.out());
        assertTrue(result.err().contains("FAILED: test.broken cannot be started"), result.err());
        assertTrue(result.err().contains("no.such.pkg"), "the reason is given:\n" + result.err());
    }

    /** A bundle whose activator throws: see {@link FailingActivator}. */
    @Test
    void failsAndSaysWhyABundleCannotStart(@TempDir Path dir) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "test.failing");
        main.putValue("Bundle-Activator", FailingActivator.class.getName());
        main.putValue("Import-Package", "org.osgi.framework");
        String entry = FailingActivator.class.getName().replace('.', '/') + ".class";
        try (var jar = new JarOutputStream(Files.newOutputStream(dir.resolve("failing.jar")), manifest);
                var in = MainTest.class.getClassLoader().getResourceAsStream(entry)) {
            jar.putNextEntry(new JarEntry(entry));
            in.transferTo(jar);
        }

        Result result = launch("--bundles", dir.toString(), "--timeout", "2");

        assertEquals(1, result.status());
        assertEquals("RESOLVED", table(result.out()).get("test.failing"), result.out());
        assertTrue(result.err().contains("FAILED: test.failing cannot be started"), result.err());
        assertTrue(result.err().contains(FailingActivator.MESSAGE), "the cause is given:\n" + result.err());
    }

    @Test
    void failsOnAMissingOrEmptyDirectory(@TempDir Path dir) {
        Result missing = launch("--bundles", dir.resolve("nowhere").toString());
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("nowhere"), missing.err());

        Result empty = launch("--bundles", dir.toString());
        assertEquals(1, empty.status());
        assertTrue(empty.err().contains("no bundle jars"), empty.err());
    }

    @Test
    void rejectsUnknownArguments() {
        Result result = launch("--bogus");
        assertEquals(2, result.status());
        assertTrue(result.err().contains("unknown argument: --bogus"), result.err());
    }
}
