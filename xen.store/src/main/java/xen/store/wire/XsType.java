package xen.store.wire;

/** The message types of xs_wire.h's {@code enum xsd_sockmsg_type}; 20 (XS_RESTRICT) was removed from Xen. */
public final class XsType {
    public static final int CONTROL = 0;
    public static final int DIRECTORY = 1;
    public static final int READ = 2;
    public static final int GET_PERMS = 3;
    public static final int WATCH = 4;
    public static final int UNWATCH = 5;
    public static final int TRANSACTION_START = 6;
    public static final int TRANSACTION_END = 7;
    public static final int INTRODUCE = 8;
    public static final int RELEASE = 9;
    public static final int GET_DOMAIN_PATH = 10;
    public static final int WRITE = 11;
    public static final int MKDIR = 12;
    public static final int RM = 13;
    public static final int SET_PERMS = 14;
    public static final int WATCH_EVENT = 15;
    public static final int ERROR = 16;
    public static final int IS_DOMAIN_INTRODUCED = 17;
    public static final int RESUME = 18;
    public static final int SET_TARGET = 19;
    public static final int RESET_WATCHES = 21;
    public static final int DIRECTORY_PART = 22;

    private XsType() {
    }
}
