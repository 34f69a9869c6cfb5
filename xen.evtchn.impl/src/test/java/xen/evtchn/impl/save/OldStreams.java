package xen.evtchn.impl.save;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** The test resources under save-streams/: streams written before version 3 (hex, '#' lines are comments) and their images as text. */
public final class OldStreams {
    private OldStreams() {
    }

    /** The bytes of save-streams/{@code name}.hex. */
    public static byte[] stream(String name) {
        StringBuilder hex = new StringBuilder();
        for (String line : resource(name + ".hex").split("\n")) {
            if (!line.startsWith("#")) {
                hex.append(line.strip());
            }
        }
        return HexFormat.of().parseHex(hex);
    }

    /** The text of save-streams/{@code name}. */
    public static String resource(String name) {
        try (InputStream in = OldStreams.class.getResourceAsStream("/save-streams/" + name)) {
            if (in == null) {
                throw new IllegalStateException("no test resource save-streams/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
