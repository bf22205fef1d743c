/* pal_start: the first untrusted code, entered once the process is sealed.
 * An app image (the PAL setting "entry=PATH") is the tar the boot block mapped
 * from the image fd: its layer is the member .xax/layer, its program `entry`.
 * A bare program's layer comes from the PAL setting "layer=URL", the program
 * from xabi_args()[0], and its filesystem tar, if any, is the mapped image. */
#include <linux/mman.h>

#include <asm/errno.h>

#include "xax_frame.h"

#include "../lib/sys.h"
#include "loader.h"
#include "rewrite.h"
#include "xax_image.h"
#include "tarfind.h"
#include "user.h"
#include "xax_protocol.h"
#include "xaxcall.h"
#include "xax_runtime.h"

const struct xax_boot_info *xax_boot;
const struct xax_layer_exports *xax_layer;

static size_t append(char *buf, size_t at, size_t size, const char *s)
{
    while (*s && at + 1 < size)
        buf[at++] = *s++;
    buf[at] = 0;
    return at;
}

/* The Monitor says it in one line: "the runtime failed: cannot start the WHAT: WHY". */
/* The running program and its interpreter (end 0: none), which an exec unmaps. */
static struct loaded_program running[2];

static long pal_exec(void *ucv, const void *img, uint64_t size, const char *const *argv, const char *const *envp);

static __attribute__((noreturn)) void give_up(const char *what, const char *why)
{
    char line[XAX_MAX_FATAL_REASON];
    size_t n = append(line, 0, sizeof line, "cannot start the ");
    n = append(line, n, sizeof line, what);
    n = append(line, n, sizeof line, ": ");
    append(line, n, sizeof line, why);
    pal_fail(XAX_FAILURE_START, line);
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
static struct xax_range layer_code;

/* This binary's own extent (boot block and PAL), from the linker. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

int pal_in_runtime(uintptr_t ip)
{
    return (ip >= (uintptr_t)__ehdr_start && ip < (uintptr_t)_end) || (ip >= layer_code.start && ip < layer_code.end);
}

/* Trace mode: tell the Monitor where the runtime's code lies, so that it counts
 * the allowed calls the PAL and the layer make (the channel, the layer's own
 * mmap, clock_gettime, rt_sigreturn...) apart from the program's.  A request,
 * not a one-way message: its reply arrives before the program's first
 * instruction, so no call of the program is counted before the ranges are known. */
static void report_runtime_code(void)
{
    if (!(xax_boot->flags & XAX_BOOT_FLAG_COUNT_KERNEL))
        return;
    struct xax_range code[2] = {{(uintptr_t)__ehdr_start, (uintptr_t)_end}, layer_code};
    xaxcall(XAX_MSG_RUNTIME_CODE, -1, 0, code, sizeof code, 0, 0, 0);
}

/* The page at the address the Monitor chose ("sigbuf=0x..."), the only act
 * pointer the filter lets rt_sigaction take. */
static void *map_sigaction_buffer(void)
{
    const char *hex = setting("sigbuf");
    if (!hex || hex[0] != '0' || hex[1] != 'x')
        return 0;
    uintptr_t addr = 0;
    for (const char *p = hex + 2; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0 || addr >> 44)
            give_up("layer", "bad sigbuf setting");
        addr = addr * 16 + (uintptr_t)d;
    }
    long m = sys6(__NR_mmap, (long)addr, XAX_PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (m != (long)addr)
        give_up("layer", "cannot map the sigaction buffer at its address");
    return (void *)addr;
}

/* Where `data` lies in the image fd, if it does and starts a page of it: the
 * loader then maps it from the fd; else -1 (the loader copies). */
static long image_offset(const void *data)
{
    const unsigned char *d = data, *image = xax_boot->image;
    if (!image || d < image || d >= image + xax_boot->image_size || (d - image) % XAX_PAGE)
        return -1;
    return d - image;
}

/* Map the layer and start it, giving it the image (if any). */
static void start_layer(const unsigned char *img, size_t size)
{
    struct loaded_program layer;
    const char *err = map_elf(img, size, image_offset(img), &layer);
    if (err)
        give_up("layer", err);
    layer_code.start = layer.start;
    layer_code.end = layer.end;
    layer_host.version = XAX_LAYER_VERSION;
    layer_host.flags = xax_boot->flags;
    layer_host.abi = &xax_pal_table;
    layer_host.trace = pal_trace;
    layer_host.forward = pal_forward;
    layer_host.poll_sliced = pal_poll_sliced;
    layer_host.poll_wait = pal_poll_wait;
    layer_host.poll_wake = xaxcall_wake;
    layer_host.poll_wakes = xaxcall_wakes;
    layer_host.end_output = pal_end_output;
    layer_host.fetch = pal_fetch_url;
    layer_host.random = xax_boot->random;
    layer_host.origin = setting("origin");
    layer_host.cwd = setting("cwd");
    layer_host.exe = setting("entry"); /* /proc/self/exe */
    layer_host.host_pid = xax_boot->host_pid;
    layer_host.arena = xax_boot->arena;
    layer_host.arena_size = xax_boot->arena_size;
    layer_host.copy_in = pal_copy_in;
    layer_host.copy_out = pal_copy_out;
    layer_host.string_in = pal_string_in;
    layer_host.readable = pal_readable;
    layer_host.writable = pal_writable;
    layer_host.sigaction = pal_sigaction;
    layer_host.raise = pal_raise;
    layer_host.image = xax_boot->image;
    layer_host.image_size = xax_boot->image_size;
    layer_host.image_fd = xax_boot->image ? XAX_IMAGE_FD : -1;
    layer_host.xaxcall = xaxcall;
    layer_host.settings = xax_boot->pal;
    layer_host.trace_path = pal_trace_path;
    layer_host.fork = xaxcall_fork;
    layer_host.exec = pal_exec;
    layer_host.code_mapped = pal_sites_mapped;
    const struct xax_layer_exports *ex = ((xax_layer_entry)layer.entry)(&layer_host);
    if (!ex || ex->version != XAX_LAYER_VERSION || !ex->dispatch || !ex->program_loaded || !ex->identity ||
        !ex->load_file)
        give_up("layer", "it does not speak this PAL's layer interface");
    if (ex->init_error)
        give_up("layer", ex->init_error);
    xax_layer = ex;
}

static const unsigned char *fetch_or_give_up(const char *what, const char *url, size_t *size)
{
    const unsigned char *data = pal_fetch(url, size);
    if (!data)
        give_up(what, "cannot fetch it");
    return data;
}

__attribute__((noreturn)) void pal_start(const struct xax_boot_info *info)
{
    xax_boot = info;
    pal_signals_init(map_sigaction_buffer()); /* from here on a bad address is -EFAULT */
    pal_rewrite_init(setting("rewrite"), info->random); /* before any handler of the program's */
    const char *entry = setting("entry");
    const unsigned char *prog_img;
    size_t prog_size;
    if (entry) {
        /* An app image (the article's loader): xabi_args()[0] names it, the
         * Monitor handed it as the image fd; its layer is the member .xax/layer;
         * the program is `entry`, through the layer. */
        if (!info->image)
            give_up("image", "the Monitor handed no image fd");
        const unsigned char *layer;
        uint64_t layer_size;
        const char *why = tar_find_layer(info->image, info->image_size, &layer, &layer_size);
        if (why)
            give_up("image", why);
        start_layer(layer, layer_size);
        const void *data;
        uint64_t size;
        /* The site table (pal/sites.c), if pack wrote one: only from the image's own bytes. */
        if (pal_rewrite_enabled() && xax_layer->load_file("/" XAX_IMAGE_SITES, &data, &size) == 0 &&
            (uintptr_t)data >= (uintptr_t)info->image && size <= info->image_size &&
            (uintptr_t)data - (uintptr_t)info->image <= info->image_size - size)
            pal_sites_load(data, size);
        if (xax_layer->load_file(entry, &data, &size) < 0)
            give_up("program", "its entry is not a readable file in the image");
        prog_img = data;
        prog_size = size;
    } else {
        /* A bare program: the layer comes from the PAL settings, the program
         * from xabi_args()[0]; the image fd, if any, is its filesystem tar. */
        const char *layer_url = setting("layer");
        if (!layer_url)
            give_up("layer", "no layer=URL setting from the Monitor");
        size_t layer_size;
        const unsigned char *layer = fetch_or_give_up("layer", layer_url, &layer_size);
        start_layer(layer, layer_size);
        xax_pal_table.free((void *)layer);
        prog_img = fetch_or_give_up("program", info->args[0], &prog_size);
    }
    struct loaded_program prog, interp;
    const char *err = map_elf(prog_img, prog_size, image_offset(prog_img), &prog);
    if (err)
        give_up("program", err);
    uintptr_t start = prog.entry, interp_bias = 0;
    if (prog.interp[0]) {
        /* A dynamic program: its interpreter (ld.so) comes from the image too and
         * loads the libraries itself, through the layer's file system. */
        const void *data;
        uint64_t size;
        if (!entry)
            give_up("program", "it is dynamically linked: pack it in an image with its libraries");
        if (xax_layer->load_file(prog.interp, &data, &size) < 0)
            give_up("program", "its interpreter (PT_INTERP) is not in the image");
        err = map_elf(data, size, image_offset(data), &interp);
        if (err)
            give_up("interpreter", err);
        if (interp.interp[0])
            give_up("interpreter", "it has an interpreter of its own");
        start = interp.entry;
        interp_bias = interp.bias;
    }
    xax_layer->program_loaded(prog.brk_start);
    uintptr_t sp = build_stack(&prog, interp_bias, info->args + 1, info->env);
    running[0] = prog;
    running[1] = interp;
    running[1].end = prog.interp[0] ? interp.end : 0;
    report_runtime_code();
    xax_enter_program(start, sp);
}

/* execve in place (docs/processes.md): the running program's image, its interpreter's and its
 * initial stack are unmapped (its other mappings stay, unreachable: the kernel's exec would
 * drop them, this cannot name them), the new program and its interpreter are mapped from the
 * image as the first program was, and the trapped call's frame is rewritten to enter it.  The
 * layer has already resolved the path, closed the close-on-exec fds and reset the handlers.
 * img is checked before anything is unmapped; after that, a failure ends the process. */
static long pal_exec(void *ucv, const void *img, uint64_t size, const char *const *argv, const char *const *envp)
{
    struct ucontext *uc = ucv;
    if (elf_check(img, size))
        return -ENOEXEC;
    for (int i = 0; i < 2; i++)
        if (running[i].end > running[i].start)
            sys2(__NR_munmap, running[i].start, running[i].end - running[i].start);
    if (pal_stack_start)
        sys2(__NR_munmap, pal_stack_start, PAL_STACK_SIZE);
    struct loaded_program prog, interp;
    const char *err = map_elf(img, size, image_offset(img), &prog);
    if (err)
        give_up("exec", err);
    uintptr_t start = prog.entry, interp_bias = 0;
    interp.end = interp.start = 0;
    if (prog.interp[0]) {
        const void *data;
        uint64_t isize;
        if (xax_layer->load_file(prog.interp, &data, &isize) < 0)
            give_up("exec", "the program's interpreter (PT_INTERP) is not in the image");
        if ((err = map_elf(data, isize, image_offset(data), &interp)) || interp.interp[0])
            give_up("exec", err ? err : "its interpreter has an interpreter of its own");
        start = interp.entry;
        interp_bias = interp.bias;
    }
    xax_layer->program_loaded(prog.brk_start);
    uintptr_t sp = build_stack(&prog, interp_bias, argv, envp);
    running[0] = prog;
    running[1] = interp;
    memset(&uc->uc_mcontext, 0, __builtin_offsetof(struct sigcontext, eflags)); /* r8 .. rip: all 0 */
    uc->uc_mcontext.rip = start;
    uc->uc_mcontext.rsp = sp;
    return 0;
}
