#ifndef XAX_TARFIND_H
#define XAX_TARFIND_H
#include <stdint.h>

/* The layer of an app image (docs/image-format.md, "An app image"): 0 with its data and
 * size; or why the image is refused (a static string: the rule's name, ": ", what). */
const char *tar_find_layer(const unsigned char *tar, uint64_t size, const unsigned char **data, uint64_t *len);
#endif
