package xen.evtchn.impl.save;

import xen.evtchn.api.abi.HvmParam;

/** The HVM parameters that are not 0 (the callback among them), ascending by index, with their raw values. */
final class HvmParamsRecord {
    private HvmParamsRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        long[] params = image.hvmParams();
        int count = 0;
        for (long v : params) {
            count += v != 0 ? 1 : 0;
        }
        w.varint(count);
        for (int i = 0; i < params.length; i++) {
            if (params[i] != 0) {
                w.varint(i);
                w.u64(params[i]);
            }
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        int count = r.varint32("HVM parameter count", HvmParam.NR_PARAMS);
        int lastIndex = -1;
        for (int i = 0; i < count; i++) {
            int at = r.position();
            int index = r.varint32("HVM parameter index", HvmParam.NR_PARAMS - 1);
            if (index <= lastIndex) {
                throw r.bad(at, "HVM parameter " + index + " is out of order or repeated");
            }
            lastIndex = index;
            parts.hvmParams[index] = r.u64("HVM parameter " + index);
        }
    }
}
