package xen.evtchn.impl.save;

import java.util.ArrayList;
import java.util.List;
import xen.evtchn.api.abi.VcpuOp;
import xen.evtchn.impl.time.TimerState;

/** Each vCPU's timers, deadlines in the guest's system time: singleshot + 1 (0: not armed), period (0: stopped), next tick. */
final class TimersRecord {
    private TimersRecord() {
    }

    static void write(StreamWriter w, DomainImage image) {
        for (TimerState t : image.timers()) {
            w.varint(t.singleshot() + 1);
            w.varint(t.period());
            if (t.period() != 0) {
                w.varint(t.periodicNext());
            }
        }
    }

    static void read(StreamReader r, ImageParts parts) {
        List<TimerState> timers = new ArrayList<>(parts.vcpus);
        for (int v = 0; v < parts.vcpus; v++) {
            r.about("vCPU ", v);
            long singleshot = r.varint("singleshot deadline", Long.MAX_VALUE) - 1;
            int at = r.position();
            long period = r.varint("period", VcpuOp.STIME_DELTA_MAX);
            if (period != 0 && period < VcpuOp.MIN_PERIOD_NS) {
                throw r.bad(at, "period " + period + " ns is under 1 ms");
            }
            long next = period == 0 ? 0 : r.varint("next periodic tick", Long.MAX_VALUE);
            timers.add(new TimerState(singleshot, period, next));
        }
        r.aboutNothing();
        parts.timers = timers;
    }
}
