/* C reference for the FIFO ABI's send + consume, one thread, beside SendBenchmark.fifoSendAndGuestConsume.
 *
 * The host side follows the steps of Xen's evtchn_fifo_set_pending (event_fifo.c): set PENDING;
 * stop if MASKED; under the queue's lock set LINKED, link the event behind the queue's tail by a
 * compare-and-swap of the tail word's LINK field if the tail is another event still LINKED, else
 * make it the head; then set the queue's bit in READY and, if READY was clear, upcall_pending
 * (and count an upcall). The guest side is Linux's consume, as the Java benchmark does it:
 * upcall_pending = 0, xchg(READY, 0), read the head, unlink the word by compare-and-swap (LINKED
 * and LINK cleared), clear PENDING. Every atomic is sequentially consistent.
 *
 * One port is sent and consumed in turn, as in the Java benchmark: the queue is empty at each send
 * and the port is its own old tail, so (as in Xen) it becomes the head without a compare-and-swap
 * on a tail word; that swap, and the wait on BUSY, are taken only when events queue up.
 *
 * Prints ns per send+consume pair by the wall clock and by the thread's CPU time (the latter is
 * what a loaded machine does not change).
 * Build: gcc -O2 -o target/fifo_send benchmarks/src/main/c/fifo_send.c
 * Usage: fifo_send [iterations] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define PENDING (1u << 31)
#define MASKED (1u << 30)
#define LINKED (1u << 29)
#define LINK_MASK ((1u << 17) - 1)
#define PRIORITY 7

static uint32_t event_array[1024] __attribute__((aligned(4096)));
static struct { uint32_t ready, rsvd, head[16]; } control __attribute__((aligned(64)));
static uint8_t vcpu_info[64] __attribute__((aligned(64)));

/* The host's side of the queue (Xen's struct evtchn_fifo_queue): its lock and tail. */
static struct { int lock; uint32_t tail; } queue;
static volatile uint64_t upcalls;

static inline int test_and_set(uint32_t *w, uint32_t bit) {
    return (__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST) & bit) != 0;
}

static inline void lock(void) {
    while (__atomic_exchange_n(&queue.lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&queue.lock, __ATOMIC_RELAXED)) {
        }
    }
}

static inline void unlock(void) {
    __atomic_store_n(&queue.lock, 0, __ATOMIC_RELEASE);
}

/* Xen's evtchn_fifo_set_link: link port behind the tail word while it stays LINKED. */
static inline int set_link(uint32_t *tail_word, uint32_t port) {
    uint32_t w = __atomic_load_n(tail_word, __ATOMIC_SEQ_CST);
    for (;;) {
        if (!(w & LINKED)) {
            return 0;
        }
        if (__atomic_compare_exchange_n(tail_word, &w, (w & ~LINK_MASK) | port, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST)) {
            return 1;
        }
    }
}

static inline void send(uint32_t port) {
    uint32_t *word = &event_array[port];
    if (test_and_set(word, PENDING)) {
        return;
    }
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) & MASKED) {
        return;
    }
    int new_head = 0;
    lock();
    if (!test_and_set(word, LINKED)) {
        int linked = 0;
        if (queue.tail != 0 && queue.tail != port) {
            linked = set_link(&event_array[queue.tail], port);
        }
        if (!linked) {
            __atomic_store_n(&control.head[PRIORITY], port, __ATOMIC_SEQ_CST);
            new_head = 1;
        }
        queue.tail = port;
    }
    unlock();
    if (new_head && !test_and_set(&control.ready, 1u << PRIORITY)
            && !__atomic_exchange_n(&vcpu_info[0], 1, __ATOMIC_SEQ_CST)) {
        upcalls++;
    }
}

/* The guest: Linux's FIFO upcall handler for one event. */
static inline uint32_t consume(void) {
    __atomic_store_n(&vcpu_info[0], 0, __ATOMIC_SEQ_CST);
    uint32_t ready = __atomic_exchange_n(&control.ready, 0, __ATOMIC_SEQ_CST);
    uint32_t head = __atomic_load_n(&control.head[PRIORITY], __ATOMIC_SEQ_CST);
    uint32_t *word = &event_array[head];
    uint32_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    while (!__atomic_compare_exchange_n(word, &w, w & ~(LINKED | LINK_MASK), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    __atomic_fetch_and(word, ~PENDING, __ATOMIC_SEQ_CST);
    return ready;
}

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 50000000L;
    const uint32_t port = 5;
    uint64_t sink = 0;
    for (long i = 0; i < n / 10; i++) {
        send(port);
        sink += consume();
    }
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        send(port);
        sink += consume();
    }
    wall = seconds(CLOCK_MONOTONIC) - wall;
    cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
    printf("fifo_send C reference: %.2f ns per send+consume by the wall clock, %.2f ns of CPU time"
           " (%ld iterations, %lu upcalls)\n", wall * 1e9 / n, cpu * 1e9 / n, n,
           (unsigned long)upcalls);
    return sink == 0 || upcalls != (uint64_t)(n + n / 10) ? 1 : 0;
}
