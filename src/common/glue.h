/*
 * glue.h - the one place where l4mm meets its environment (internal, not installed).
 *
 * Everything the environment provides goes through here, so the modules never name the
 * platform. A kernel may define L4MM_CONFIG_HEADER to a header of its own (e.g.
 * -DL4MM_CONFIG_HEADER='"my_l4mm_config.h"') that defines any of the macros below first.
 */
#ifndef L4MM_GLUE_H
#define L4MM_GLUE_H

#ifdef L4MM_CONFIG_HEADER
#include L4MM_CONFIG_HEADER
#endif

#include <l4mm/status.h>
#include <l4mm/types.h>

/* L4MM_ASSERT(c): internal consistency that validation already guarantees. It is never used
 * to check caller input (callers get a status). Debug builds trap; NDEBUG builds drop it. */
#ifndef L4MM_ASSERT
#ifdef NDEBUG
#define L4MM_ASSERT(c) ((void)0)
#else
#define L4MM_ASSERT(c) ((c) ? (void)0 : __builtin_trap())
#endif
#endif

#ifndef L4MM_LIKELY
#define L4MM_LIKELY(x) __builtin_expect(!!(x), 1)
#endif
#ifndef L4MM_UNLIKELY
#define L4MM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

#define L4MM_STATIC_ASSERT(c, msg) _Static_assert(c, msg)

#endif /* L4MM_GLUE_H */
