/* l4mm_strerror: a table of static strings; no libc. */
#include <l4mm/status.h>

const char *l4mm_strerror(l4mm_status s)
{
    switch (s) {
    case L4MM_OK: return "ok";
    case L4MM_EINVAL: return "invalid argument";
    case L4MM_ENOMEM: return "out of memory";
    case L4MM_ENOENT: return "no such entry";
    case L4MM_EPERM: return "permission denied";
    case L4MM_EBUSY: return "busy";
    case L4MM_EAGAIN: return "budget spent, call again";
    case L4MM_EDECODE: return "malformed wire data";
    case L4MM_ECORRUPT: return "corruption detected";
    }
    return "unknown status";
}
