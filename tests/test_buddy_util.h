/*
 * test_buddy_util.h - the fixture the buddy unit tests share: an instance with its metadata
 * on the heap, checked when it is done.
 */
#ifndef L4MM_TEST_BUDDY_UTIL_H
#define L4MM_TEST_BUDDY_UTIL_H

#include <stdlib.h>

#include <l4mm/buddy.h>

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define PG  4096ull

struct fx {
    struct l4mm_buddy b;
    uint64_t *meta;
    size_t msz;
};

static inline void fx_init(struct fx *f, l4mm_addr_t base, l4mm_addr_t size, unsigned us,
                           unsigned mo)
{
    f->msz = l4mm_buddy_meta_size(base, size, us, mo);
    assert_true(f->msz > 0 && f->msz != SIZE_MAX);
    f->meta = malloc(f->msz);
    assert_non_null(f->meta);
    assert_int_equal(l4mm_buddy_init(&f->b, f->meta, f->msz, base, size, us, mo), L4MM_OK);
}

static inline void fx_done(struct fx *f)
{
    assert_int_equal(l4mm_buddy_check(&f->b), L4MM_OK);
    free(f->meta);
}

#endif /* L4MM_TEST_BUDDY_UTIL_H */
