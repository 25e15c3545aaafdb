/*
 * kpool_internal.h - what kpool.c, kcache.c and oom_chain.c share (not installed).
 */
#ifndef L4MM_KPOOL_INTERNAL_H
#define L4MM_KPOOL_INTERNAL_H

#include "common/glue.h"
#include <l4mm/kpool.h>

/* Slow paths stay out of line so the fast paths need no callee-saved registers. */
#define KP_NOINLINE __attribute__((noinline))

/* Pool flags. */
#define KP_OUTSTANDING 1u /* a want_pages request awaits refill_done/refill_failed */
#define KP_FAILED      2u /* the pager reported failure since the last free or give */
#define KP_FLAGS_ALL   3u

/* The deepest hook nesting: alloc -> oom/want_pages -> give -> excess_pages. */
#define KP_MAX_DEPTH 2u

#define KP_MAGIC ((uintptr_t)0x6b706f6f6cu)       /* "kpool" */
#define KP_TAG   ((uintptr_t)0x5a5a3c3c0f0f6969u) /* free-page tag (hardened builds) */

static inline uintptr_t kp_magic(const struct l4mm_kpool *p)
{
    return KP_MAGIC ^ (uintptr_t)p;
}

/* The tag a free page carries in its second word (hardened builds). */
static inline uintptr_t kp_tag(const struct l4mm_kpool *p, const void *page)
{
    return KP_TAG ^ (uintptr_t)p ^ ((uintptr_t)page >> 6);
}

/*
 * Adds a validated page to the pool: a give, a free (was_allocated), or a page released by
 * an object cache (was_allocated). Clears a reported pager failure; may call excess_pages.
 * Allowed inside hooks. The caller has checked alignment and (hardened) the tag.
 */
void l4mm_kpool_internal_put(struct l4mm_kpool *p, void *page, bool was_allocated);

/* True iff the pool is initialised (magic matches) - a cheap sanity test. */
static inline bool kp_live(const struct l4mm_kpool *p)
{
    return p->magic == kp_magic(p);
}

#endif /* L4MM_KPOOL_INTERNAL_H */
