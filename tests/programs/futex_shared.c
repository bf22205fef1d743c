/* Non-private futex operations, whose answers must not change when the filter
 * traps them and the PAL makes them as private ones (runtime_c/pal/futex.c):
 * each line is compared with the native run.  The kernel's errors (a bad or
 * invalid timeout, a word not aligned or not mapped, a value that differs, a
 * clock FUTEX_WAIT does not take, an empty bitset), timeouts longer than the
 * PAL's 2 ms slice (relative and absolute, on both clocks), a wait woken by
 * another thread, and pthread_join, which waits for the kernel's non-private
 * wake at a thread's exit (CLONE_CHILD_CLEARTID). */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(void *addr, int op, unsigned val, const void *timeout, void *addr2, unsigned val3)
{
    long r = syscall(SYS_futex, addr, op, val, timeout, addr2, val3);
    return r < 0 ? -errno : r;
}

static void say(const char *name, long r)
{
    printf("%s = %ld\n", name, r);
}

static unsigned word, flag;
static _Alignas(8) unsigned char bytes[8];

static struct timespec in(int clock, long ms)
{
    struct timespec t;
    clock_gettime(clock, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static void *waiter(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&flag, __ATOMIC_ACQUIRE) == 0)
        futex(&flag, FUTEX_WAIT, 0, 0, 0, 0);
    return (void *)(long)flag;
}

static void *short_lived(void *arg)
{
    struct timespec t = {0, 10 * 1000000L};
    nanosleep(&t, 0);
    return arg;
}

int main(void)
{
    struct timespec ms20 = {0, 20 * 1000000L}, bad = {0, 1000000000L}, past = {0, 0};
    say("bad_timeout_pointer", futex(&word, FUTEX_WAIT, 0, (void *)8, 0, 0));
    say("invalid_timeout", futex(&word, FUTEX_WAIT, 0, &bad, 0, 0));
    say("wait_realtime_clock", futex(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &ms20, 0, 0));
    say("bitset_empty", futex(&word, FUTEX_WAIT_BITSET, 0, &ms20, 0, 0));
    say("misaligned", futex(bytes + 1, FUTEX_WAIT, 0, &ms20, 0, 0));
    say("unmapped", futex((void *)4096, FUTEX_WAIT, 0, &ms20, 0, 0));
    say("value_differs", futex(&word, FUTEX_WAIT, 1, &ms20, 0, 0));
    say("relative_timeout", futex(&word, FUTEX_WAIT, 0, &ms20, 0, 0));
    struct timespec mono = in(CLOCK_MONOTONIC, 20), real = in(CLOCK_REALTIME, 20);
    say("absolute_monotonic", futex(&word, FUTEX_WAIT_BITSET, 0, &mono, 0, FUTEX_BITSET_MATCH_ANY));
    say("absolute_realtime",
        futex(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &real, 0, FUTEX_BITSET_MATCH_ANY));
    say("absolute_past", futex(&word, FUTEX_WAIT_BITSET, 0, &past, 0, FUTEX_BITSET_MATCH_ANY));
    say("wake_nobody", futex(&word, FUTEX_WAKE, 1, 0, 0, 0));

    pthread_t t;
    pthread_create(&t, 0, waiter, 0);
    struct timespec pause = {0, 20 * 1000000L};
    nanosleep(&pause, 0);
    __atomic_store_n(&flag, 7, __ATOMIC_RELEASE);
    futex(&flag, FUTEX_WAKE, 1, 0, 0, 0);
    void *got;
    pthread_join(t, &got);
    say("woken_thread_saw", (long)got);

    for (long i = 0; i < 20; i++) {
        pthread_create(&t, 0, short_lived, (void *)i);
        pthread_join(t, &got);
        if ((long)got != i)
            say("join_returned", (long)got);
    }
    say("joined", 20);
    return 0;
}
