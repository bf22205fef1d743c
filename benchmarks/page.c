/* A small page from a program that does not speak HTTP: the same static binary runs
 * natively, as a CGI program (websocketd --cgidir, Python's CGI server), under websocketd,
 * and sealed behind `xax-emu serve`'s stdio and websocket interfaces (bench_serve.py).
 *
 *   page        writes the page on stdout and exits 0 (a request's answer: CGI, stdio);
 *               run as CGI (GATEWAY_INTERFACE set) it writes the CGI header first, which
 *               CGI requires and serve's stdio interface declares in the manifest instead
 *   page -l     writes the page as one line, then echoes every line of stdin until EOF
 *               (a REPL's shape: websocketd, serve's websocket interface)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char PAGE[] = "<!doctype html><title>page</title><h1>hello from a program that speaks stdio</h1>";

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "-l")) {
        static char line[1 << 16];
        printf("%s\n", PAGE);
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            fputs(line, stdout);
            fflush(stdout);
        }
        return 0;
    }
    if (getenv("GATEWAY_INTERFACE"))
        fputs("Content-Type: text/html\r\n\r\n", stdout);
    printf("%s\n", PAGE);
    return 0;
}
