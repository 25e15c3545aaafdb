/*
 * The parent project's program. It is deliberately not warning-clean under l4mm's warning set
 * (an implicit sign conversion, an unused parameter): it must still build, because l4mm's
 * warnings and -Werror apply to l4mm's own targets only. It checks that the parent's global
 * flags reached it and calls into the library.
 */
#include <stdio.h>
#include <string.h>

#include <l4mm/status.h>
#include <l4mm/version.h>

#if !defined(PARENT_GLOBAL_FLAG) || !defined(PARENT_DIR_OPTION)
#error "the parent's own flags did not reach the parent's target"
#endif

static unsigned to_unsigned(int x, int unused)
{
    return x;
}

int main(void)
{
    const char *s = l4mm_strerror(L4MM_EBUSY);
    if (s == NULL || strcmp(s, "unknown status") == 0 || to_unsigned(1, 0) != 1u)
        return 1;
    printf("parent: l4mm %s: %s\n", L4MM_VERSION_STRING, s);
    return 0;
}
