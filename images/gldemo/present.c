/* The Xax ABI is there when the PAL handed its table over in the auxiliary vector. */
#include <sys/auxv.h>

#include "server.h"
#include "xabi.h"

int xabi_present(void)
{
    return getauxval(AT_XAX_ABI) != 0;
}
