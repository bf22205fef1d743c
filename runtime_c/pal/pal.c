/* pal_start: the first untrusted code, entered once the process is sealed. */
#include "../lib/sys.h"
#include "loader.h"
#include "xax_protocol.h"
#include "xax_runtime.h"

const struct xax_boot_info *xax_boot;

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

__attribute__((noreturn)) void pal_start(const struct xax_boot_info *info)
{
    xax_boot = info;
    struct loaded_program prog;
    const char *err = load_program(info->args[0], &prog);
    if (err) {
        say("xax-emu: cannot start the program: ");
        say(err);
        say("\n");
        sys_exit_group(127);
    }
    layer_init(prog.brk_start);
    uintptr_t sp = build_stack(&prog, info->args + 1, info->env);
    xax_enter_program(prog.entry, sp);
}
