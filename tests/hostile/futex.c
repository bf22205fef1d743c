/* Attack: the priority-inheritance futex operations (they reach other tasks'
 * scheduling and a word's owner tid), with and without FUTEX_PRIVATE_FLAG, and
 * an op with the PI number in the low 32 bits and junk above (the kernel takes
 * an int).  The allowed forms are checked against the kernel's own answers:
 * FUTEX_WAIT on a non-matching value is -EAGAIN, on a matching one with a
 * timeout -ETIMEDOUT, FUTEX_WAKE with junk above the op wakes nobody (0);
 * requeue and wake-op act on the program's own words only: wake-op's store
 * lands in word2, and a second address the program does not own is -EFAULT. */
#include <linux/futex.h>
#include <time.h>
#include "hostile.h"

static int word, word2, pi_word;

static long futex(long op, long val, long timeout_or_val2, long uaddr2, long val3)
{
    return raw6(SYS_futex, (long)&word, op, val, timeout_or_val2, uaddr2, val3);
}

int main(int argc, char **argv)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    report("lock_pi", raw6(SYS_futex, (long)&pi_word, FUTEX_LOCK_PI, 0, 0, 0, 0));
    report("lock_pi_private", raw6(SYS_futex, (long)&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, 0, 0, 0));
    report("lock_pi_junk", raw6(SYS_futex, (long)&pi_word, FUTEX_LOCK_PI | (1L << 32), 0, 0, 0, 0));
    report("lock_pi2", raw6(SYS_futex, (long)&pi_word, FUTEX_LOCK_PI2, 0, 0, 0, 0));
    report("trylock_pi", raw6(SYS_futex, (long)&pi_word, FUTEX_TRYLOCK_PI, 0, 0, 0, 0));
    report("unlock_pi", raw6(SYS_futex, (long)&pi_word, FUTEX_UNLOCK_PI, 0, 0, 0, 0));
    report("pi_word", pi_word);
    report("requeue", futex(FUTEX_REQUEUE, 1, 1, (long)&word2, 0));
    report("requeue_kernel_address", futex(FUTEX_REQUEUE_PRIVATE, 1, 1, (long)0xffffffff81000000UL, 0));
    report("cmp_requeue", futex(FUTEX_CMP_REQUEUE, 1, 1, (long)&word2, 0));
    report("cmp_requeue_nonmatching", futex(FUTEX_CMP_REQUEUE, 1, 1, (long)&word2, 5));
    report("cmp_requeue_pi", futex(FUTEX_CMP_REQUEUE_PI, 1, 1, (long)&pi_word, 0));
    report("wait_requeue_pi", futex(FUTEX_WAIT_REQUEUE_PI, 0, (long)&ts, (long)&pi_word, 0));
    report("wake_op", futex(FUTEX_WAKE_OP, 1, 1, (long)&word2, FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0)));
    report("word2", word2);
    report("wake_op_kernel_address", futex(FUTEX_WAKE_OP_PRIVATE, 1, 1, (long)0xffffffff81000000UL,
                                           FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_EQ, 0)));
    report("wait_nonmatching", futex(FUTEX_WAIT, 1, (long)&ts, 0, 0));
    report("wait_matching_timeout", futex(FUTEX_WAIT_PRIVATE, 0, (long)&ts, 0, 0));
    report("wait_bitset_nonmatching", futex(FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 1, (long)&ts, 0, -1));
    report("wake_junk", futex(FUTEX_WAKE | (0xdeadL << 32), 1, 0, 0, 0));
    (void)argc;
    (void)argv;
    return 0;
}
