package reference.guest;

/** One vCPU's side of an event channel ABI: its bound ports and the upcall handler that dispatches their events. */
interface PortEvents {
    /** What the guest does for an event on a port. */
    @FunctionalInterface
    interface PortHandler {
        void handle(int port);
    }

    /** Binds {@code port} to this vCPU: its events are dispatched to {@code handler}. */
    void bind(int port, PortHandler handler);

    /** The upcall handler, until upcall_pending stays clear. Returns ports dispatched; 0 is a spurious upcall. */
    int handleUpcall();
}
