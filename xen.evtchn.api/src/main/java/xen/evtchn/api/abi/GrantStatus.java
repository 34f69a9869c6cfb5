package xen.evtchn.api.abi;

/**
 * GNTST_* status codes (public/grant_table.h): the per-operation result a grant table operation
 * writes into its struct's status field, 0 or negative. They are not errno values: the hypercall
 * itself answers 0 when it wrote a status.
 *
 * @since 1.3
 */
public final class GrantStatus {
    public static final int OKAY = 0;
    public static final int GENERAL_ERROR = -1;
    public static final int BAD_DOMAIN = -2;
    public static final int BAD_GNTREF = -3;
    public static final int BAD_HANDLE = -4;
    public static final int BAD_VIRT_ADDR = -5;
    public static final int BAD_DEV_ADDR = -6;
    public static final int NO_DEVICE_SPACE = -7;
    public static final int PERMISSION_DENIED = -8;
    public static final int BAD_PAGE = -9;
    public static final int BAD_COPY_ARG = -10;
    public static final int ADDRESS_TOO_BIG = -11;
    public static final int EAGAIN = -12;
    public static final int NO_SPACE = -13;

    private GrantStatus() {
    }

    /** The symbol of a status, "GNTST_?" plus the number if unknown. */
    public static String name(int status) {
        return switch (status) {
            case OKAY -> "GNTST_okay";
            case GENERAL_ERROR -> "GNTST_general_error";
            case BAD_DOMAIN -> "GNTST_bad_domain";
            case BAD_GNTREF -> "GNTST_bad_gntref";
            case BAD_HANDLE -> "GNTST_bad_handle";
            case BAD_VIRT_ADDR -> "GNTST_bad_virt_addr";
            case BAD_DEV_ADDR -> "GNTST_bad_dev_addr";
            case NO_DEVICE_SPACE -> "GNTST_no_device_space";
            case PERMISSION_DENIED -> "GNTST_permission_denied";
            case BAD_PAGE -> "GNTST_bad_page";
            case BAD_COPY_ARG -> "GNTST_bad_copy_arg";
            case ADDRESS_TOO_BIG -> "GNTST_address_too_big";
            case EAGAIN -> "GNTST_eagain";
            case NO_SPACE -> "GNTST_no_space";
            default -> "GNTST_?" + status;
        };
    }
}
