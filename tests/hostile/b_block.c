/* Attack (limits): block forever, in a read of stdin that never gets data or
 * EOF (argv[3] "stdin"), or in a blocking xabi_poll on no channels ("poll"),
 * after printing "ready".  Only the Monitor's wall-clock limit, or its death,
 * ends it; it must never print "woke". */
#include <sys/auxv.h>
#include <unistd.h>
#include "hostile.h"
#include "xabi.h"

int main(int argc, char **argv)
{
    const char *mode = argv[argc - 1];
    char c;
    long r;
    puts("ready");
    fflush(stdout);
    if (!strcmp(mode, "stdin")) {
        r = read(0, &c, 1);
    } else if (!strcmp(mode, "poll")) {
        const struct xabi_table *t = (const struct xabi_table *)getauxval(AT_XAX_ABI);
        r = t->poll(0, 0, 1);
    } else
        return 2;
    report("woke", r);
    return 0;
}
