/* The Xax ABI, as the article "Leveraging legacy code for Web browsers" defines it.
 *
 * The PAL fills a table of function pointers (struct xabi_table); libxax gives
 * programs the xabi_* symbols by calling through it, and the interposition
 * layer calls through it too.  A program finds the table with
 * getauxval(AT_XAX_ABI).
 *
 * Return conventions (the article's):
 *   xabi_read / xabi_write  bytes moved, 0 if the channel is not ready, -1 if closed or failed
 *   xabi_poll               number of ready entries; with block, waits and never returns 0
 *   xabi_open_url           a channel id, or -1 (method "get", "put" or "connect")
 *   xabi_accept             a channel id of an incoming connection, or -1 if none is ready;
 *                           poll XABI_ACCEPT_CHNL for XABI_POLLIN to wait for one
 *   xabi_alloc              the address of len zero-filled bytes (at start if given), or 0
 *   xabi_free / xabi_close  0, or -1 on error
 *   xabi_args               a NULL-terminated list: args[0] is the image URL, then the program's argv
 */
#ifndef XABI_H
#define XABI_H

#include <stdbool.h>

/* auxv tag under which the PAL hands the table to the program it starts. */
#define AT_XAX_ABI 0x5841

#define XABI_POLLIN 0x1
#define XABI_POLLOUT 0x4
#define XABI_POLLERR 0x8
#define XABI_POLLHUP 0x10

#define XABI_TABLE_VERSION 1

/* Not a channel: in xabi_poll, ready for XABI_POLLIN while an incoming connection
 * waits for xabi_accept (an extension of the article's ABI, whose xabi_accept
 * never blocks: a server sleeps in xabi_poll instead of spinning). */
#define XABI_ACCEPT_CHNL (-2)

typedef struct xabi_poll_fd {
    int chnl;
    short events;
    short revents;
} xabi_poll_fd;

struct xabi_table {
    unsigned long version;
    void *(*alloc)(void *start, long len);
    int (*free)(void *start);
    int (*accept)(void);
    int (*open_url)(const char *method, const char *url);
    int (*read)(int chnl, char *buf, int len);
    int (*write)(int chnl, char *buf, int len);
    int (*poll)(xabi_poll_fd *pfds, int npfds, bool block);
    int (*close)(int chnl);
    const char **(*args)(void);
    void (*exit)(void);
};

/* The symbols libxax exports (and the PAL implements under pal_ names). */
void *xabi_alloc(void *start, long len);
int xabi_free(void *start);
int xabi_accept(void);
int xabi_open_url(const char *method, const char *url);
int xabi_read(int chnl, char *buf, int len);
int xabi_write(int chnl, char *buf, int len);
int xabi_poll(xabi_poll_fd *pfds, int npfds, bool block);
int xabi_close(int chnl);
const char **xabi_args(void);
void xabi_exit(void) __attribute__((noreturn));

#endif
