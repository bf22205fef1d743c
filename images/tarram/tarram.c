/* tarram: reads a text file from the image (the tar route, default /data/words.txt),
 * counts its lines, words and bytes, lists the directory it is in, writes a report to
 * the RAM disk (default /tmp/report.txt), reads the report back and prints it.
 *
 *   tarram [INPUT [REPORT]]
 *
 * Plain C, stdio and dirent: an example app for xax-emu images. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    const char *input = argc > 1 ? argv[1] : "/data/words.txt";
    const char *report = argc > 2 ? argv[2] : "/tmp/report.txt";

    FILE *in = fopen(input, "r");
    if (!in) {
        perror(input);
        return 1;
    }
    long lines = 0, words = 0, bytes = 0;
    int c, inword = 0;
    while ((c = fgetc(in)) != EOF) {
        bytes++;
        if (c == '\n')
            lines++;
        if (isspace(c)) {
            inword = 0;
        } else if (!inword) {
            inword = 1;
            words++;
        }
    }
    fclose(in);

    /* the names next to the input, sorted */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", input);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = 0;
    else if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    char *names[256];
    int count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 256)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            names[count++] = strdup(e->d_name);
    closedir(d);
    qsort(names, count, sizeof names[0], compare);

    FILE *out = fopen(report, "w");
    if (!out) {
        perror(report);
        return 1;
    }
    fprintf(out, "%s: %ld lines, %ld words, %ld bytes\n", input, lines, words, bytes);
    fprintf(out, "%s:", dir);
    for (int i = 0; i < count; i++)
        fprintf(out, " %s", names[i]);
    fprintf(out, "\n");
    if (fclose(out) != 0) {
        perror(report);
        return 1;
    }

    FILE *back = fopen(report, "r");
    if (!back) {
        perror(report);
        return 1;
    }
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, back)) > 0)
        fwrite(buf, 1, n, stdout);
    fclose(back);
    return 0;
}
