#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Touches what static libcs do at start-up and in stdio: malloc, time, argv, env. */
int main(int argc, char **argv)
{
    printf("hello from %s with %d argument%s\n", argc > 0 ? "a program" : "?", argc - 1, argc == 2 ? "" : "s");
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = %s\n", i, argv[i]);
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    char *p = malloc(1 << 20);
    memset(p, 'x', 1 << 20);
    char *q = malloc(100);
    strcpy(q, "malloc works");
    puts(q);
    free(p);
    free(q);
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 || time(NULL) < 1600000000)
        puts("clock broken");
    fprintf(stderr, "to stderr\n");
    return argc == 3 ? 7 : 0;
}
