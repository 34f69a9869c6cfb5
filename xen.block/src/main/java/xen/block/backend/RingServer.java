package xen.block.backend;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import xen.block.ring.BackRing;
import xen.evtchn.api.abi.blkif.Blkif;
import xen.evtchn.api.abi.blkif.BlkifRequest;
import xen.evtchn.api.abi.blkif.BlkifResponse;
import xen.evtchn.api.backend.EvtchnException;
import xen.evtchn.api.bus.XenBusDevice;

/**
 * Serves one device's ring on a thread of its own (blkback's xen_blkif_schedule), never on a
 * vCPU's: on each event, and every {@value #POLL_MS} ms to see whether it is asked to stop, it
 * takes the requests the frontend published, does each in ring order ({@link RequestIo}), and
 * answers and pushes each at once, notifying the frontend when its rsp_event asks (blkback's
 * make_response: RING_PUSH_RESPONSES_AND_CHECK_NOTIFY per response, so that the frontend can reuse
 * a request's buffers while the next ones are done: measured, pushing once per pass of up to 32
 * requests made 1 MiB reads 30% slower), then re-arms req_event (RING_FINAL_CHECK_FOR_REQUESTS)
 * before it waits again.
 * <p>
 * Every request taken gets exactly one response: a request is answered before the next is taken,
 * and {@link #stop()} ends the thread only between two requests, after pushing. Nothing a
 * frontend writes stops it: a bad request is answered with an error, a producer index beyond the
 * ring is not followed (reported once), and only the loss of the port or of the domain's memory
 * ends it.
 */
final class RingServer {
    static final int POLL_MS = 20;
    /** Refusals logged per connection; the rest are counted. */
    static final int LOGGED_REFUSALS = 3;

    private final String name;
    private final BackRing ring;
    private final XenBusDevice.Channel channel;
    private final RequestIo io;
    private final Consumer<String> log;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile long served;
    private volatile long refused;
    private boolean overflowReported;

    RingServer(String name, BackRing ring, XenBusDevice.Channel channel, RequestIo io, Consumer<String> log) {
        this.name = name;
        this.ring = ring;
        this.channel = channel;
        this.io = io;
        this.log = log;
        this.thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /** Ends the thread after the request it is doing, with every response pushed; returns once it has ended. */
    void stop() {
        stopping = true;
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true; // no interrupt to the thread: it would close the image's channel mid-write
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    BackRing ring() {
        return ring;
    }

    /** Requests answered OKAY. */
    long served() {
        return served;
    }

    /** Requests answered ERROR or EOPNOTSUPP. */
    long refused() {
        return refused;
    }

    private void run() {
        try {
            serve(); // requests may wait already: published while the previous backend handed over
            while (!stopping) {
                int port = channel.handle().pending(POLL_MS, TimeUnit.MILLISECONDS);
                if (port >= 0) {
                    channel.handle().unmask(port); // before the pass: a kick during it is not lost
                }
                serve();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (EvtchnException e) {
            if (!stopping) {
                log.accept(name + ": stopped: " + e.getMessage()); // the port is gone: nothing to serve
            }
        } catch (IllegalStateException e) {
            // The domain's memory is gone (destroyed while its device was still up): nothing to serve.
        }
    }

    /** Takes and answers requests until none is waiting (or it is asked to stop), pushing each answer. */
    private void serve() throws EvtchnException {
        do {
            int n = ring.unconsumedRequests();
            if (n == 0 && ring.producerOverflow() && !overflowReported) {
                overflowReported = true;
                log.accept(name + ": the frontend's req_prod is beyond the ring; its requests are not taken until it is sane (reported once)");
            }
            for (int i = 0; i < n && !stopping; i++) {
                answer(ring.take());
                if (ring.pushResponsesAndCheckNotify()) {
                    channel.handle().notify(channel.port());
                }
            }
        } while (!stopping && ring.finalCheckForRequests());
    }

    private void answer(BlkifRequest request) {
        int status;
        try {
            status = io.serve(request);
        } catch (RuntimeException e) {
            status = Blkif.RSP_ERROR; // a bug here must not stop the device: the request fails, the ring goes on
            log.accept(name + ": " + Blkif.opName(request.operation()) + " failed: " + e);
        }
        if (status == Blkif.RSP_OKAY) {
            served++;
        } else {
            long count = ++refused;
            if (count <= LOGGED_REFUSALS && io.refusal() != null) {
                log.accept(name + ": " + Blkif.opName(request.operation()) + " answered "
                        + (status == Blkif.RSP_EOPNOTSUPP ? "EOPNOTSUPP" : "ERROR") + ": " + io.refusal()
                        + (count == LOGGED_REFUSALS ? " (further refusals counted, not logged)" : ""));
            }
        }
        ring.respond(new BlkifResponse(request.id(), request.operation(), status));
    }
}
