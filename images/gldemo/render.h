/* The demo's 3D scene, rendered off-screen by Mesa (OSMesa, software). */
#ifndef GLDEMO_RENDER_H
#define GLDEMO_RENDER_H

#include <stdint.h>

#define FRAME_W 256
#define FRAME_H 192
#define FRAME_BYTES (FRAME_W * FRAME_H * 3) /* RGB, top row first */

/* Creates the off-screen context; 0, or -1 (with a message on stderr). */
int render_init(void);

/* Draws frame n (the picture depends on n alone) into rgb, FRAME_BYTES bytes. */
void render_frame(unsigned n, uint8_t *rgb);

#endif
