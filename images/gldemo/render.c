/* The scene: a lit cube with coloured faces spinning about a tilted axis, and an
 * octahedron orbiting it, over a dark gradient.  Frame n's picture is a function of
 * n alone (angles are steps of n), so a sealed run and a native run draw the same
 * bytes.  Fixed-function OpenGL 1.x, as the demos of the article's time were. */
#include "render.h"

#include <GL/gl.h>
#include <GL/osmesa.h>
#include <stdio.h>
#include <stdlib.h>

static OSMesaContext ctx;
static uint8_t rgba[FRAME_W * FRAME_H * 4];

int render_init(void)
{
    ctx = OSMesaCreateContextExt(OSMESA_RGBA, 16, 0, 0, NULL);
    if (!ctx) {
        fprintf(stderr, "gldemo: OSMesaCreateContextExt failed\n");
        return -1;
    }
    if (!OSMesaMakeCurrent(ctx, rgba, GL_UNSIGNED_BYTE, FRAME_W, FRAME_H)) {
        fprintf(stderr, "gldemo: OSMesaMakeCurrent failed\n");
        return -1;
    }
    OSMesaPixelStore(OSMESA_Y_UP, 0); /* row 0 at the top, as a canvas and a PPM want it */
    glEnable(GL_DEPTH_TEST);
    glEnable(GL_LIGHTING);
    glEnable(GL_LIGHT0);
    glEnable(GL_COLOR_MATERIAL);
    glEnable(GL_NORMALIZE);
    glShadeModel(GL_SMOOTH);
    const GLfloat light_pos[] = {2.0f, 3.0f, 4.0f, 0.0f};
    glLightfv(GL_LIGHT0, GL_POSITION, light_pos);
    glViewport(0, 0, FRAME_W, FRAME_H);
    glMatrixMode(GL_PROJECTION);
    glLoadIdentity();
    glFrustum(-0.8, 0.8, -0.6, 0.6, 1.5, 20.0);
    return 0;
}

static void background(void)
{
    /* a gradient quad far away, unlit, behind everything */
    glDisable(GL_LIGHTING);
    glDepthMask(GL_FALSE);
    glMatrixMode(GL_MODELVIEW);
    glPushMatrix();
    glLoadIdentity();
    glBegin(GL_QUADS);
    glColor3f(0.05f, 0.05f, 0.15f);
    glVertex3f(-16, -12, -19);
    glVertex3f(16, -12, -19);
    glColor3f(0.20f, 0.25f, 0.45f);
    glVertex3f(16, 12, -19);
    glVertex3f(-16, 12, -19);
    glEnd();
    glPopMatrix();
    glDepthMask(GL_TRUE);
    glEnable(GL_LIGHTING);
}

static void cube(void)
{
    static const GLfloat face[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    static const GLfloat colour[6][3] = {{0.9f, 0.2f, 0.2f}, {0.2f, 0.8f, 0.3f}, {0.2f, 0.4f, 0.9f},
                                         {0.9f, 0.8f, 0.2f}, {0.8f, 0.3f, 0.8f}, {0.2f, 0.8f, 0.8f}};
    glBegin(GL_QUADS);
    for (int f = 0; f < 6; f++) {
        const GLfloat *n = face[f];
        /* two axes spanning the face */
        GLfloat u[3] = {n[1] != 0 || n[2] != 0 ? 1.0f : 0.0f, n[0] != 0 ? 1.0f : 0.0f, 0};
        GLfloat v[3] = {n[1] * u[2] - n[2] * u[1], n[2] * u[0] - n[0] * u[2], n[0] * u[1] - n[1] * u[0]};
        glColor3fv(colour[f]);
        glNormal3fv(n);
        static const int corner[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
        for (int c = 0; c < 4; c++) {
            GLfloat a = (GLfloat)corner[c][0], b = (GLfloat)corner[c][1];
            if (n[0] + n[1] + n[2] < 0) /* keep the winding outward */
                b = -b;
            glVertex3f(n[0] + a * u[0] + b * v[0], n[1] + a * u[1] + b * v[1], n[2] + a * u[2] + b * v[2]);
        }
    }
    glEnd();
}

static void octahedron(void)
{
    static const GLfloat p[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    static const int tri[8][3] = {{0, 2, 4}, {2, 1, 4}, {1, 3, 4}, {3, 0, 4},
                                  {2, 0, 5}, {1, 2, 5}, {3, 1, 5}, {0, 3, 5}};
    glBegin(GL_TRIANGLES);
    for (int t = 0; t < 8; t++) {
        const GLfloat *a = p[tri[t][0]], *b = p[tri[t][1]], *c = p[tri[t][2]];
        glNormal3f(a[0] + b[0] + c[0], a[1] + b[1] + c[1], a[2] + b[2] + c[2]);
        glColor3f(t & 1 ? 1.0f : 0.95f, t & 2 ? 0.85f : 0.6f, t & 4 ? 0.3f : 0.1f);
        glVertex3fv(a);
        glVertex3fv(b);
        glVertex3fv(c);
    }
    glEnd();
}

void render_frame(unsigned n, uint8_t *rgb)
{
    glClearColor(0, 0, 0, 1);
    glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    background();
    glMatrixMode(GL_MODELVIEW);
    glLoadIdentity();
    glTranslatef(0, 0, -6);
    glPushMatrix();
    glRotatef((GLfloat)(n % 120) * 3.0f, 1.0f, 1.0f, 0.3f); /* a full turn every 120 frames */
    cube();
    glPopMatrix();
    glRotatef((GLfloat)(n % 180) * 2.0f, 0, 1, 0);
    glTranslatef(2.4f, 0.6f, 0);
    glRotatef((GLfloat)(n % 60) * 6.0f, 1, 0, 0);
    glScalef(0.45f, 0.45f, 0.45f);
    octahedron();
    glFinish();
    for (int i = 0; i < FRAME_W * FRAME_H; i++) {
        rgb[3 * i] = rgba[4 * i];
        rgb[3 * i + 1] = rgba[4 * i + 1];
        rgb[3 * i + 2] = rgba[4 * i + 2];
    }
}
