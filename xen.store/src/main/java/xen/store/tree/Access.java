package xen.store.tree;

/** One entry's access in {@code xs_permissions}: the letters are the wire's ('n', 'r', 'w', 'b'). */
public enum Access {
    NONE('n'), READ('r'), WRITE('w'), BOTH('b');

    private final char letter;

    Access(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }

    public boolean canRead() {
        return this == READ || this == BOTH;
    }

    public boolean canWrite() {
        return this == WRITE || this == BOTH;
    }

    /** The access of a wire letter, or null if the letter is none of the four. */
    public static Access ofLetter(char letter) {
        for (Access a : values()) {
            if (a.letter == letter) {
                return a;
            }
        }
        return null;
    }
}
