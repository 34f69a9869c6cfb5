package launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunDescriptionTest {
    private static final String BNDRUN = """
            # a comment
            -runfw: org.apache.felix.framework;version='[7.0.5,8)'
            -runproperties: gosh.args=--nointeractive, a.b = c=d
            -runbundles: \\
                one,\\
                two
            -runbundles.extra: three
            -runbundles.other: four
            """;

    @Test
    void readsTheBundlesInOrderWithTheNamedPartsOnly(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("x.bndrun"), BNDRUN);
        assertEquals(List.of("one", "two"), RunDescription.read(file).bundles());
        assertEquals(List.of("one", "two", "three"), RunDescription.read(file, "extra").bundles());
        assertEquals(Map.of("gosh.args", "--nointeractive", "a.b", "c=d"), RunDescription.read(file).properties());
    }

    @Test
    void refusesVersionRangesAndAMissingPart(@TempDir Path dir) throws IOException {
        Path ranged = Files.writeString(dir.resolve("r.bndrun"), "-runbundles: one;version='[1,2)'\n");
        IOException e = assertThrows(IOException.class, () -> RunDescription.read(ranged));
        assertTrue(e.getMessage().contains("symbolic names only"), e.getMessage());
        Path file = Files.writeString(dir.resolve("x.bndrun"), BNDRUN);
        e = assertThrows(IOException.class, () -> RunDescription.read(file, "nope"));
        assertTrue(e.getMessage().endsWith("has no -runbundles.nope"), e.getMessage());
    }

    /** Jars are picked by the symbolic name in their manifest, whatever their file name. */
    @Test
    void selectsJarsBySymbolicNameAndNamesTheMissingOnes(@TempDir Path dir) throws IOException {
        Path a = bundle(dir.resolve("a-1.0.jar"), "one;singleton:=true");
        Path b = bundle(dir.resolve("b.jar"), "two");
        Path plain = bundle(dir.resolve("plain.jar"), null);
        RunDescription run = new RunDescription(List.of("two", "one"), Map.of());
        assertEquals(List.of(b, a), run.select(List.of(plain, a, b, dir.resolve("missing.jar"))));

        RunDescription more = new RunDescription(List.of("one", "three", "four"), Map.of());
        IOException e = assertThrows(IOException.class, () -> more.select(List.of(a, b)));
        assertTrue(e.getMessage().startsWith("no jar holds three, four"), e.getMessage());
    }

    /** The build's step: the directory holds the described bundles, named by symbolic name, and nothing older. */
    @Test
    void copiesTheBundlesByName(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("x.bndrun"), "-runbundles: one\n-runbundles.extra: two\n");
        Path a = bundle(dir.resolve("a-1.0.jar"), "one");
        Path b = bundle(dir.resolve("b-2.0.jar"), "two");
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("stale.jar"), "old");
        RunDescription.main(new String[] {file.toString(), "extra", out.toString(), a + File.pathSeparator + b});
        try (var files = Files.list(out)) {
            assertEquals(List.of("one.jar", "two.jar"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals("one", RunDescription.symbolicName(out.resolve("one.jar")));
    }

    /** The launcher's jar carries the host's runtime: the api among its bundles, the shell part, no console reader by default. */
    @Test
    void theLauncherCarriesTheHostsRuntime() throws IOException {
        RunDescription host = RunDescription.host();
        assertTrue(host.bundles().containsAll(List.of("xen.evtchn.api", "xen.evtchn.impl", "org.apache.felix.scr",
                "org.apache.felix.gogo.shell")), host.bundles().toString());
        assertEquals("--nointeractive", host.properties().get(Main.GOSH_ARGS));
    }

    private static Path bundle(Path jar, String symbolicName) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (symbolicName != null) {
            main.putValue("Bundle-SymbolicName", symbolicName);
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
            // the manifest is all
        }
        return jar;
    }
}
