/* The demo's web server, on the Xax ABI: connections come from xabi_accept. */
#ifndef GLDEMO_SERVER_H
#define GLDEMO_SERVER_H

/* Serves the page (files under www_dir) and the frame stream until the Monitor ends
 * the picoprocess; returns only on a failure (-1, with a message on stderr). */
int serve(const char *www_dir, const char *renderer);

/* Whether the Xax ABI is there (present.c: the PAL's table in the auxiliary vector; a test
 * build links tests/xax/xabi_posix.c instead, the ABI over loopback sockets). */
int xabi_present(void);

#endif
