/* What the user granted at run time, told by the Monitor's PAL settings:
 *
 * - mount=MODE:GUEST, one per host directory (run --mount HOST:GUEST[:ro|rw]), in the
 *   order that numbers them: mounted at GUEST as a host-directory route (vfs/hostdir.c),
 *   whose requests reach the Monitor through layer_env_monitor (the PAL's xaxcall);
 * - export_ram=1 (run --export-ram DIR): the seal then lets exit_group through only with
 *   XAX_EXIT_STATUS_OWN set, so the program's own exit_group traps, and the dispatcher
 *   hands it to layer_exit_group: the RAM disks go to the Monitor as one tar
 *   (vfs_export_ram) in EXPORT_RAM messages, then the picoprocess exits with the
 *   program's status. */
#include "arena.h"
#include "layer.h"

#include "../lib/sys.h"
#include "../vfs/vfs.h"
#include "xax_protocol.h"

long layer_env_monitor(void *ctx, uint16_t type, int32_t chan, int32_t arg, const void *payload, uint32_t len,
                       void *out, uint32_t outcap, uint32_t *outlen)
{
    (void)ctx;
    return layer_host->xaxcall(type, chan, arg, payload, len, out, outcap, outlen);
}

/* the value of a "key=value" setting, if s is one for key */
static const char *value_of(const char *s, const char *key)
{
    size_t n = strlen(key);
    return strncmp(s, key, n) == 0 && s[n] == '=' ? s + n + 1 : 0;
}

const char *layer_mount_grants(void)
{
    int number = 0;
    for (const char **s = layer_host->settings; s && *s; s++) {
        const char *grant = value_of(*s, "mount");
        if (!grant)
            continue;
        int rw = strncmp(grant, "rw:", 3) == 0;
        if (!rw && strncmp(grant, "ro:", 3) != 0)
            return "a mount setting is not MODE:GUEST";
        long e = vfs_mount_hostdir(layer.vfs, grant + 3, number++, rw);
        if (e == -EEXIST || e == -EINVAL)
            return "a granted directory's guest path is taken or malformed";
        if (e < 0)
            return "a granted directory cannot be mounted (the Monitor refused its root)";
    }
    return 0;
}

/* -- the RAM disks at exit ------------------------------------------------------------- */

/* The tar in EXPORT_RAM messages of a whole payload each (the last one shorter). */
struct export_pipe {
    uint32_t used;
    int refused;
    unsigned char buf[XAX_MAX_PAYLOAD];
};

static long send_piece(struct export_pipe *p, int32_t how)
{
    uint32_t got;
    int32_t r = layer_host->xaxcall(XAX_MSG_EXPORT_RAM, -1, how, p->buf, how == XAX_EXPORT_FAILED ? 0 : p->used, 0,
                                    0, &got);
    p->used = 0;
    if (r < 0)
        p->refused = 1;
    return r < 0 ? -EIO : 0;
}

static long emit(void *ctx, const void *data, size_t len)
{
    struct export_pipe *p = ctx;
    const unsigned char *d = data;
    while (len) {
        if (p->refused)
            return -EIO;
        size_t k = XAX_MAX_PAYLOAD - p->used < len ? XAX_MAX_PAYLOAD - p->used : len;
        memcpy(p->buf + p->used, d, k);
        p->used += (uint32_t)k;
        d += k;
        len -= k;
        if (p->used == XAX_MAX_PAYLOAD && send_piece(p, XAX_EXPORT_MORE) < 0)
            return -EIO;
    }
    return 0;
}

static int export_asked(void)
{
    for (const char **s = layer_host->settings; s && *s; s++) {
        const char *v = value_of(*s, "export_ram");
        if (v && strcmp(v, "1") == 0)
            return 1;
    }
    return 0;
}

static void export_ram(void)
{
    struct export_pipe *p = LAYER_ABI->alloc(0, sizeof *p);
    if (!p) { /* nothing can be sent but the failure */
        uint32_t got;
        layer_host->xaxcall(XAX_MSG_EXPORT_RAM, -1, XAX_EXPORT_FAILED, 0, 0, 0, 0, &got);
        return;
    }
    p->used = 0;
    p->refused = 0;
    long r = vfs_export_ram(layer.vfs, emit, p);
    if (!p->refused)
        send_piece(p, r < 0 ? XAX_EXPORT_FAILED : XAX_EXPORT_LAST);
    LAYER_ABI->free(p);
}

void layer_exit_group(struct layer_call *c)
{
    /* The family's RAM disks are one (docs/processes.md): the entry's exit exports them, with
     * what every member left; a child's exit would send them before the family is done. */
    if (export_asked() && layer_vpid() == XAX_VIRTUAL_PID)
        export_ram();
    if (arena_on()) { /* the family's files this process held open are let go (vfs/fork.c) */
        vfs_fork_exit(layer.vfs);
        family_unlock(); /* else the others would wait for the Monitor to see this process gone */
    }
    sys_exit_group((int)c->a[0]);
}
