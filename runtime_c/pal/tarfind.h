#ifndef XAX_TARFIND_H
#define XAX_TARFIND_H
#include <stdint.h>

/* 1 and the member's data if `name` is a regular member among the image's first
 * members; 0 otherwise (absent, or the archive is malformed). */
int tar_find(const unsigned char *tar, uint64_t size, const char *name, const unsigned char **data, uint64_t *len);
#endif
