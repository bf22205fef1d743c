/* Pieces of the boot block (runtime_c/boot/), trusted code that runs before the seal. */
#ifndef XAX_BOOT_H
#define XAX_BOOT_H
#include <linux/filter.h>
#include <stdint.h>

/* Trace mode: install the kernel-counting filter (`n` instructions) and send its
 * listener to the Monitor.  NULL on success; else a reason (and *err, -errno or 0)
 * while nothing has changed yet.  Once the filter is in, it never returns failure:
 * if the listener cannot be sent it ends the process with SIGKILL. */
const char *boot_hand_over_listener(const struct sock_filter *bpf, uint32_t n, long *err);

#endif
