package launcher;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * A runtime as bnd describes one in a .bndrun (the host's: cnf/host.bndrun): the bundles it runs,
 * by Bundle-SymbolicName, and its framework properties. Reads the part of bnd's format the project
 * writes: a properties file whose {@code -runbundles} (with the {@code -runbundles.NAME} keys bnd
 * merges into it) lists symbolic names without versions, and whose {@code -runproperties} lists
 * {@code name=value} pairs.
 *
 * @param bundles    the symbolic names, in the file's order
 * @param properties the framework properties
 */
public record RunDescription(List<String> bundles, Map<String, String> properties) {
    /** The host's runtime in the launcher's jar (launcher/pom.xml puts cnf/host.bndrun there). */
    static final String RESOURCE = "/launcher/host.bndrun";
    /** The part of -runbundles only the launcher runs: Gogo's commands and console shell. */
    static final String SHELL = "shell";

    public RunDescription {
        bundles = List.copyOf(bundles);
        properties = Map.copyOf(properties);
    }

    /**
     * Reads {@code -runbundles}, followed by {@code -runbundles.NAME} for each of {@code merged}
     * (bnd merges every such key; a reader picks the parts it runs), and {@code -runproperties}.
     */
    public static RunDescription read(Path bndrun, String... merged) throws IOException {
        try (InputStream in = Files.newInputStream(bndrun)) {
            return read(in, bndrun.toString(), merged);
        }
    }

    /** The host's runtime as the launcher runs it (with {@value #SHELL}), from its jar. */
    static RunDescription host() throws IOException {
        try (InputStream in = RunDescription.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("no " + RESOURCE + " in the launcher's jar");
            }
            return read(in, RESOURCE, SHELL);
        }
    }

    static RunDescription read(InputStream in, String name, String... merged) throws IOException {
        Properties p = new Properties();
        try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            p.load(reader);
        }
        List<String> bundles = new ArrayList<>(list(p, "-runbundles", name));
        for (String part : merged) {
            bundles.addAll(list(p, "-runbundles." + part, name));
        }
        Map<String, String> properties = new LinkedHashMap<>();
        for (String pair : split(p.getProperty("-runproperties", ""))) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new IOException(name + ": -runproperties wants name=value: got \"" + pair + "\"");
            }
            properties.put(pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
        }
        return new RunDescription(bundles, properties);
    }

    private static List<String> list(Properties p, String key, String name) throws IOException {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IOException(name + " has no " + key);
        }
        List<String> names = split(value);
        for (String bsn : names) {
            if (bsn.contains(";")) {
                throw new IOException(name + ": " + key + " lists symbolic names only (no version ranges): got " + bsn);
            }
        }
        return names;
    }

    private static List<String> split(String value) {
        return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * The jar of each bundle, in {@link #bundles()}' order, picked by the Bundle-SymbolicName in its
     * manifest from {@code jars} (others are ignored).
     *
     * @throws IOException naming the bundles none of {@code jars} holds
     */
    public List<Path> select(Collection<Path> jars) throws IOException {
        Map<String, Path> bySymbolicName = new LinkedHashMap<>();
        for (Path jar : jars) {
            String bsn = symbolicName(jar);
            if (bsn != null) {
                bySymbolicName.putIfAbsent(bsn, jar);
            }
        }
        List<Path> selected = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String bsn : bundles) {
            Path jar = bySymbolicName.get(bsn);
            if (jar == null) {
                missing.add(bsn);
            } else {
                selected.add(jar);
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException("no jar holds " + String.join(", ", missing)
                    + ": is each one's artifact a dependency of cnf/pom.xml?");
        }
        return selected;
    }

    /** The jar's Bundle-SymbolicName without directives, or null if it is no bundle (or no jar). */
    static String symbolicName(Path jar) throws IOException {
        if (!Files.isRegularFile(jar) || !jar.toString().endsWith(".jar")) {
            return null;
        }
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String value = manifest == null ? null : manifest.getMainAttributes().getValue("Bundle-SymbolicName");
            return value == null ? null : value.split(";", 2)[0].strip();
        }
    }

    /**
     * The build's step (launcher/pom.xml runs it): copies the bundles of a .bndrun, each as
     * SYMBOLIC-NAME.jar, into a directory emptied of jars first.
     * Arguments: the .bndrun, the -runbundles.NAME parts to add (comma-separated, may be empty),
     * the directory, and the candidate jars as a class path (File.pathSeparator-separated).
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: RunDescription BNDRUN PARTS DIRECTORY JARS");
        }
        RunDescription run = read(Path.of(args[0]), split(args[1]).toArray(String[]::new));
        List<Path> jars = Arrays.stream(args[3].split(File.pathSeparator)).filter(s -> !s.isBlank())
                .map(Path::of).toList();
        List<Path> selected = run.select(jars);
        Path dir = Path.of(args[2]);
        Files.createDirectories(dir);
        try (var old = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path jar : old) {
                Files.delete(jar);
            }
        }
        for (int i = 0; i < selected.size(); i++) {
            Files.copy(selected.get(i), dir.resolve(run.bundles().get(i) + ".jar"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.COPY_ATTRIBUTES);
        }
    }
}
