/* pal_start: the first untrusted code, entered once the process is sealed.
 * It loads the interposition layer named by the PAL setting "layer=URL",
 * then the program named by xabi_args()[0], and starts the program. */
#include "../lib/sys.h"
#include "loader.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

const struct xax_boot_info *xax_boot;
const struct xax_layer_exports *xax_layer;

static void say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        int w = xax_pal_table.write(XAX_STDERR_CHAN, (char *)s, (int)n);
        if (w <= 0)
            return;
        s += w;
        n -= w;
    }
}

static __attribute__((noreturn)) void give_up(const char *what, const char *why)
{
    say("xax-emu: cannot start the ");
    say(what);
    say(": ");
    say(why);
    say("\n");
    sys_exit_group(127);
}

static const char *setting(const char *key)
{
    size_t n = strlen(key);
    for (const char **p = xax_boot->pal; *p; p++)
        if (strncmp(*p, key, n) == 0 && (*p)[n] == '=')
            return *p + n + 1;
    return 0;
}

static struct xax_layer_host layer_host;

static void load_layer(void)
{
    const char *url = setting("layer");
    if (!url)
        give_up("layer", "no layer=URL setting from the Monitor");
    size_t size;
    const unsigned char *img = pal_fetch(url, &size);
    if (!img)
        give_up("layer", "cannot fetch it");
    struct loaded_program layer;
    const char *err = map_elf(img, size, &layer);
    if (err)
        give_up("layer", err);
    xax_pal_table.free((void *)img);
    layer_host.version = XAX_LAYER_VERSION;
    layer_host.flags = xax_boot->flags;
    layer_host.abi = &xax_pal_table;
    layer_host.trace = pal_trace;
    layer_host.random = xax_boot->random;
    layer_host.origin = setting("origin");
    const char *image_url = setting("image");
    if (image_url) { /* the filesystem image for the profile's tar routes */
        size_t image_size;
        layer_host.image = pal_fetch(image_url, &image_size);
        if (!layer_host.image)
            give_up("layer", "cannot fetch the filesystem image");
        layer_host.image_size = image_size;
    }
    const struct xax_layer_exports *ex = ((xax_layer_entry)layer.entry)(&layer_host);
    if (!ex || ex->version != XAX_LAYER_VERSION || !ex->dispatch || !ex->program_loaded || !ex->identity)
        give_up("layer", "it does not speak this PAL's layer interface");
    xax_layer = ex;
}

__attribute__((noreturn)) void pal_start(const struct xax_boot_info *info)
{
    xax_boot = info;
    load_layer();
    size_t size;
    const unsigned char *img = pal_fetch(info->args[0], &size);
    if (!img)
        give_up("program", "cannot fetch the program");
    struct loaded_program prog;
    const char *err = map_elf(img, size, &prog);
    if (err)
        give_up("program", err);
    xax_pal_table.free((void *)img);
    xax_layer->program_loaded(prog.brk_start);
    uintptr_t sp = build_stack(&prog, info->args + 1, info->env);
    xax_enter_program(prog.entry, sp);
}
