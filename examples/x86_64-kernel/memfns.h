/* memfns.h - the mem* functions a freestanding compiler may emit calls to; memfns.c defines
 * them once for both images (kernel and user). */
#ifndef KX_MEMFNS_H
#define KX_MEMFNS_H

#include <stddef.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
