package xen.store.tree;

/**
 * XenStore paths as xenstored checks them: absolute ("/local/domain/1/name") or relative to the
 * caller's home, /local/domain/&lt;domid&gt;; made of letters, digits and "-/_@", no empty
 * component, no trailing slash; at most XENSTORE_REL_PATH_MAX (2048) characters relative and
 * XENSTORE_ABS_PATH_MAX (3072) absolute. Paths starting with '@' are the special watch paths.
 * A bad path is EINVAL.
 */
public final class StorePath {
    public static final int ABS_PATH_MAX = 3072;
    public static final int REL_PATH_MAX = 2048;
    public static final String ROOT = "/";
    public static final String INTRODUCE_DOMAIN = "@introduceDomain";
    public static final String RELEASE_DOMAIN = "@releaseDomain";

    private StorePath() {
    }

    /** A domain's home, where its relative paths start. */
    public static String home(int domid) {
        return "/local/domain/" + domid;
    }

    /** The absolute form of {@code path} for {@code caller}; special '@' paths only if {@code special}. */
    public static String canonical(int caller, String path, boolean special) {
        if (path.isEmpty()) {
            throw new StoreException(XsError.EINVAL);
        }
        if (path.charAt(0) == '@') {
            if (!special || !(path.equals(INTRODUCE_DOMAIN) || path.equals(RELEASE_DOMAIN))) {
                throw new StoreException(XsError.EINVAL);
            }
            return path;
        }
        String abs;
        if (path.charAt(0) == '/') {
            abs = path;
        } else {
            if (path.length() > REL_PATH_MAX) {
                throw new StoreException(XsError.EINVAL);
            }
            abs = home(caller) + "/" + path;
        }
        if (!valid(abs)) {
            throw new StoreException(XsError.EINVAL);
        }
        return abs;
    }

    /** Whether {@code abs} is an absolute path xenstored accepts (not a special one). */
    public static boolean valid(String abs) {
        if (abs.length() > ABS_PATH_MAX || abs.isEmpty() || abs.charAt(0) != '/') {
            return false;
        }
        if (abs.length() == 1) {
            return true;
        }
        if (abs.charAt(abs.length() - 1) == '/') {
            return false;
        }
        char previous = 0;
        for (int i = 0; i < abs.length(); i++) {
            char c = abs.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '@' || c == '/';
            if (!ok || (c == '/' && previous == '/')) {
                return false;
            }
            previous = c;
        }
        return true;
    }

    /** The parent of an absolute path other than the root. */
    public static String parent(String abs) {
        int slash = abs.lastIndexOf('/');
        return slash == 0 ? ROOT : abs.substring(0, slash);
    }

    /** The last component of an absolute path other than the root. */
    public static String name(String abs) {
        return abs.substring(abs.lastIndexOf('/') + 1);
    }

    /** The absolute path of a child. */
    public static String child(String abs, String name) {
        return abs.equals(ROOT) ? ROOT + name : abs + "/" + name;
    }

    /** Whether {@code path} is {@code ancestor} or lies below it. */
    public static boolean isAtOrBelow(String path, String ancestor) {
        if (ancestor.equals(ROOT)) {
            return path.charAt(0) == '/';
        }
        return path.startsWith(ancestor)
                && (path.length() == ancestor.length() || path.charAt(ancestor.length()) == '/');
    }

    /** The path as a domain that registered relative sees it: without its home, if below it. */
    public static String relativeTo(int domid, String abs) {
        String home = home(domid);
        return abs.startsWith(home + "/") ? abs.substring(home.length() + 1) : abs;
    }
}
