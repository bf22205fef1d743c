/* The kernel's signal frame types (uapi headers, in the order they need). */
#ifndef XAX_FRAME_H
#define XAX_FRAME_H
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/siginfo.h>
#include <asm/ucontext.h>
_Static_assert(__builtin_offsetof(struct ucontext, uc_mcontext) == 40, "ucontext layout");
_Static_assert(__builtin_offsetof(struct ucontext, uc_sigmask) == 296, "ucontext layout");
#endif
