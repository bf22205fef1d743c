/* The VFS's env.net_* hooks, as the layer gives them (net.c) */
#ifndef XAX_LAYER_NET_H
#define XAX_LAYER_NET_H

#include <stddef.h>
#include <stdint.h>

long net_accept(void *ctx);
long net_connect(void *ctx, const uint8_t addr[16], uint16_t port);
long net_read(void *ctx, int chan, void *buf, size_t n);
long net_write(void *ctx, int chan, const void *buf, size_t n);
void net_shutdown(void *ctx, int chan);
long net_wait(void *ctx, int chan, uint32_t events, uint32_t *word, uint32_t seen);

/* the struct vfs_env entries that name them */
#define LAYER_NET_ENV                                                                                                \
    .net_accept = net_accept, .net_connect = net_connect, .net_read = net_read, .net_write = net_write,              \
    .net_shutdown = net_shutdown, .net_wait = net_wait

#endif
