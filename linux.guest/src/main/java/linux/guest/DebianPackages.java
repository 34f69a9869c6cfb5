package linux.guest;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Debian packages through the host's own tools: {@code apt-cache show} for what the package lists
 * offer, {@code apt-get download} for the .deb (no installation, so no root needed for that),
 * {@code dpkg-deb -x} to unpack it. When a package is unknown or its file is gone from the mirror,
 * the lists are stale or missing: {@code apt-get update} (as root) runs once and the step is
 * retried. An offline instance never downloads nor updates; it only reads the lists.
 *
 * <p>Every failure is a {@link FetchException} saying what is missing and how to fix it.
 */
public final class DebianPackages {
    static final Duration QUERY_TIMEOUT = Duration.ofMinutes(2);
    static final Duration UPDATE_TIMEOUT = Duration.ofMinutes(10);
    static final Duration DOWNLOAD_TIMEOUT = Duration.ofMinutes(15);
    /** Command output kept for error messages. */
    private static final int MAX_OUTPUT = 1 << 20;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]+");
    private static final Pattern VERSION = Pattern.compile("(\\d+:)?[0-9][A-Za-z0-9.+~-]*");
    /** One dependency of a Depends field: the name, and the version if pinned with "(= version)". */
    private static final Pattern DEPENDENCY = Pattern.compile("(\\S+)\\s*(?:\\(\\s*=\\s*(\\S+)\\s*\\))?.*");
    /** What apt says when the lists lack a package or name a file the mirror no longer has. */
    private static final List<String> STALE_LISTS = List.of("Unable to locate package", "No packages found",
            "has no installation candidate", "Can't select candidate version", "Can't find a source to download",
            "404  Not Found", "404 Not Found");

    /** A package at one version, as apt names it: {@code name=version}. */
    public record Package(String name, String version) {
        public Package {
            if (!NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("not a Debian package name: '" + name + "'");
            }
            if (!VERSION.matcher(version).matches()) {
                throw new IllegalArgumentException("not a Debian version: '" + version + "' (package " + name + ")");
            }
        }

        /** name_version with the epoch's colon as %3a, as apt names .debs: usable as a file name. */
        public String key() {
            return name + "_" + version.replace(":", "%3a");
        }
    }

    /** A step with the package tools failed; the message says what is missing and how to fix it. */
    public static final class FetchException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public FetchException(String message) {
            super(message);
        }
    }

    private record Result(int exit, String output) {
        boolean staleLists() {
            return exit != 0 && STALE_LISTS.stream().anyMatch(output::contains);
        }
    }

    private final boolean offline;
    private boolean updated;

    private DebianPackages(boolean offline) {
        this.offline = offline;
    }

    /** Uses the network when it must: to download, and to update stale lists once. */
    public static DebianPackages online() {
        return new DebianPackages(false);
    }

    /** Reads the package lists only: a download or an update is a {@link FetchException}. */
    public static DebianPackages offline() {
        return new DebianPackages(true);
    }

    /** The version of {@code name} that apt-get would download (its candidate). */
    public Package candidate(String name) {
        return new Package(name, field(show(name), "Version", name));
    }

    /**
     * The package {@code metapackage} depends on whose name starts with {@code prefix}, at the
     * version it pins or else at its candidate: linux-image-cloud-amd64 depends on
     * linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3).
     */
    public Package dependency(String metapackage, String prefix) {
        String depends = field(show(metapackage), "Depends", metapackage);
        List<Package> found = new ArrayList<>();
        List<String> unpinned = new ArrayList<>();
        for (String clause : depends.split(",")) {
            String first = clause.split("\\|")[0].trim(); // of alternatives, the first
            Matcher m = DEPENDENCY.matcher(first);
            if (m.matches() && m.group(1).startsWith(prefix) && !m.group(1).equals(metapackage)) {
                if (m.group(2) != null) {
                    found.add(new Package(m.group(1), m.group(2)));
                } else {
                    unpinned.add(m.group(1));
                }
            }
        }
        for (String name : unpinned) {
            found.add(candidate(name));
        }
        if (found.size() != 1) {
            throw new FetchException(metapackage + " should depend on exactly one " + prefix + "* package, but its"
                    + " Depends is '" + depends + "'");
        }
        return found.getFirst();
    }

    /**
     * Downloads {@code pkg} and unpacks it into {@code into}, which must not exist: the files go
     * to a temporary directory beside it that is renamed at the end, so {@code into} is complete
     * or absent. The .deb is not kept.
     */
    public Path fetch(Package pkg, Path into) {
        Path parent = into.toAbsolutePath().getParent();
        try {
            Files.createDirectories(parent);
            Path work = Files.createTempDirectory(parent, ".fetch-" + pkg.name() + "-");
            try {
                Path deb = download(pkg, Files.createDirectory(work.resolve("deb")));
                Path files = work.resolve("files");
                unpack(deb, files);
                Files.move(files, into, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                delete(work);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("fetching " + pkg.key() + " into " + into + ": " + e.getMessage(), e);
        }
        return into;
    }

    /** {@code apt-get download name=version} in {@code dir}; returns the one .deb it made. */
    public Path download(Package pkg, Path dir) throws IOException {
        if (offline) {
            throw new FetchException("offline: " + pkg.key() + " is not in the cache and may not be downloaded");
        }
        String spec = pkg.name() + "=" + pkg.version();
        Result r = withUpdate(() -> run(DOWNLOAD_TIMEOUT, dir, "apt-get", "download", spec));
        if (r.exit() != 0) {
            throw new FetchException("apt-get download " + spec + " failed (exit " + r.exit() + "): " + errors(r)
                    + "; check the network and /etc/apt/sources.list, then run apt-get update");
        }
        try (Stream<Path> debs = Files.list(dir)) {
            List<Path> all = debs.filter(p -> p.getFileName().toString().endsWith(".deb")).toList();
            if (all.size() != 1) {
                throw new FetchException("apt-get download " + spec + " left " + all.size() + " .deb files in " + dir
                        + ", expected one");
            }
            return all.getFirst();
        }
    }

    /** {@code dpkg-deb -x deb into}: the package's files, without running its scripts. */
    public void unpack(Path deb, Path into) {
        Result r = run(DOWNLOAD_TIMEOUT, null, "dpkg-deb", "-x", deb.toString(), into.toString());
        if (r.exit() != 0) {
            throw new FetchException("dpkg-deb -x " + deb + " failed (exit " + r.exit() + "): " + errors(r)
                    + "; the file may be damaged: delete it and fetch again");
        }
    }

    /** The candidate's record from {@code apt-cache show --no-all-versions}, updating stale lists once. */
    private String show(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a Debian package name: '" + name + "'");
        }
        Result r = withUpdate(() -> run(QUERY_TIMEOUT, null, "apt-cache", "show", "--no-all-versions", name));
        if (r.exit() != 0) {
            throw new FetchException("apt-cache show " + name + " failed (exit " + r.exit() + "): " + errors(r)
                    + "; is the package in this host's apt sources (/etc/apt/sources.list*)?");
        }
        return r.output();
    }

    /** Field {@code name} of the first record in {@code record} (apt-cache's "Name: value" lines). */
    private static String field(String record, String name, String pkg) {
        for (String line : record.split("\n")) {
            if (line.isEmpty()) {
                break; // the first record only
            }
            if (line.startsWith(name + ":")) {
                return line.substring(name.length() + 1).trim();
            }
        }
        throw new FetchException("apt-cache show " + pkg + " printed no " + name + " field");
    }

    /** Runs {@code step}; if it failed for lack of fresh package lists, updates them once and reruns it. */
    private Result withUpdate(java.util.function.Supplier<Result> step) {
        Result r = step.get();
        if (!r.staleLists() || updated) {
            return r;
        }
        update(errors(r));
        return step.get();
    }

    private void update(String why) {
        if (offline) {
            throw new FetchException("offline, and the package lists need an update (" + why
                    + "): run apt-get update as root");
        }
        int uid = uid();
        if (uid != 0) {
            throw new FetchException("the package lists need an update (" + why + "), which needs root, and this"
                    + " runs as uid " + uid + ": run `sudo apt-get update` once, or run this as root");
        }
        updated = true;
        Result r = run(UPDATE_TIMEOUT, null, "apt-get", "update");
        if (r.exit() != 0) {
            throw new FetchException("apt-get update failed (exit " + r.exit() + "): " + errors(r)
                    + "; check the network and /etc/apt/sources.list*");
        }
    }

    /** The process's uid: the owner of /proc/self; -1 if unknown. */
    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return -1;
        }
    }

    /** The executable {@code name} on the PATH, or null. */
    static Path onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/bin" : path).split(File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Runs a command with stdin empty, stdout and stderr together (kept up to 1 MiB), in the C
     * locale so that apt's messages are the English ones matched above.
     */
    private static Result run(Duration timeout, Path dir, String... command) {
        if (onPath(command[0]) == null) {
            String pkg = command[0].equals("dpkg-deb") ? "dpkg" : "apt";
            throw new FetchException(command[0] + " is not on the PATH (" + System.getenv("PATH") + "): this needs a"
                    + " Debian or Ubuntu host with the " + pkg + " package, which has " + command[0]);
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        String line = String.join(" ", command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new FetchException("cannot run " + line + ": " + e.getMessage());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> keep(p.getInputStream(), out));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly); // apt's download methods hold the pipe
                p.destroyForcibly();
                p.waitFor();
                reader.join(Duration.ofSeconds(5));
                throw new FetchException(line + " took longer than " + timeout.toMinutes() + " minutes and was"
                        + " stopped; check the network");
            }
            reader.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new FetchException(line + " was interrupted");
        }
        synchronized (out) {
            return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8));
        }
    }

    /** Copies {@code in} into {@code out} up to {@link #MAX_OUTPUT} bytes, draining the rest. */
    private static void keep(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buf)) >= 0;) {
                synchronized (out) {
                    out.write(buf, 0, Math.clamp(MAX_OUTPUT - out.size(), 0, n));
                }
            }
        } catch (IOException e) {
            // the process was killed: what was read is what there is
        }
    }

    /** apt's error lines ("E: ..."), at most three, on one line; else the output's last line. */
    private static String errors(Result r) {
        List<String> lines = r.output().lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        List<String> errors = lines.stream().filter(s -> s.startsWith("E:") || s.startsWith("dpkg-deb: error"))
                .limit(3).toList();
        if (!errors.isEmpty()) {
            return String.join("; ", errors);
        }
        return lines.isEmpty() ? "no output" : lines.getLast();
    }

    private static void delete(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
