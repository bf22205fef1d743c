/* gldemo: the article's OpenGL demo, written for Xax.  A 3D animation rendered by
 * Mesa off-screen (OSMesa, in software) and sent to a page that draws it on a canvas.
 *
 *   gldemo [serve [WWW]]      serve the page (files of WWW, default /www: the image's) and the
 *                             frame stream (server.c); needs the Xax ABI
 *   gldemo frames COUNT [N]   render frames N .. N+COUNT-1 to stdout as binary PPMs (P6), for
 *                             tests: a sealed run and a native run print the same bytes
 */
#include <GL/gl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "server.h"

static int frames(unsigned count, unsigned first)
{
    static uint8_t rgb[FRAME_BYTES];
    for (unsigned i = 0; i < count; i++) {
        render_frame(first + i, rgb);
        printf("P6\n%d %d\n255\n", FRAME_W, FRAME_H);
        if (fwrite(rgb, 1, sizeof rgb, stdout) != sizeof rgb)
            return 1;
    }
    return fflush(stdout) ? 1 : 0;
}

static int number(const char *text, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(text, &end, 10);
    if (!*text || *end || v > 1000000)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && argc <= 4 && strcmp(argv[1], "frames") == 0) {
        unsigned count, first = 0;
        if (number(argv[2], &count) || (argc == 4 && number(argv[3], &first))) {
            fprintf(stderr, "gldemo: frames COUNT [FIRST]: numbers up to 1000000\n");
            return 2;
        }
        return render_init() ? 1 : frames(count, first);
    }
    if (argc == 1 || (argc <= 3 && strcmp(argv[1], "serve") == 0)) {
        if (!xabi_present()) {
            fprintf(stderr, "gldemo: serve runs in a picoprocess (xax-emu serve); natively, try: gldemo frames 1\n");
            return 2;
        }
        if (render_init())
            return 1;
        return serve(argc == 3 ? argv[2] : "/www", (const char *)glGetString(GL_RENDERER)) ? 1 : 0;
    }
    fprintf(stderr, "usage: gldemo [serve [WWW]] | gldemo frames COUNT [FIRST]\n");
    return 2;
}
