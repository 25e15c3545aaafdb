/* klib.c - the few libc functions a freestanding compiler may emit calls to. */
#include "kernel.h"

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

const char *rights_str(unsigned r)
{
    static char buf[4][4];
    static unsigned slot;
    char *s = buf[slot++ & 3];
    s[0] = (r & 4u) ? 'r' : '-';
    s[1] = (r & 2u) ? 'w' : '-';
    s[2] = (r & 1u) ? 'x' : '-';
    s[3] = 0;
    return s;
}
