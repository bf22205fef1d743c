/* A stdin-to-stdout filter: upper-cases letters, counts lines, reports on stderr. */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
    int c, lines = 0;
    long bytes = 0;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n')
            lines++;
        putchar(toupper(c));
    }
    fprintf(stderr, "%d lines, %ld bytes\n", lines, bytes);
    return lines % 256;
}
