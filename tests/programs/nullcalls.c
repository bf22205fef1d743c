/* Makes argv[1] null xaxcalls (xabi_poll of no channels) and exits with 3:
 * the count the Monitor reports for `run --stats-json` is known. */
#include <stdlib.h>
#include <sys/auxv.h>

#include "xabi.h"

int main(int argc, char **argv)
{
    const struct xabi_table *abi = (const struct xabi_table *)getauxval(AT_XAX_ABI);
    if (!abi || argc < 2)
        return 1;
    for (long i = atol(argv[1]); i > 0; i--)
        abi->poll(0, 0, false);
    return 3;
}
