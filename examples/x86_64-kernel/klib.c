/* klib.c - small kernel helpers (the mem* functions are in memfns.c). */
#include "kernel.h"

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
