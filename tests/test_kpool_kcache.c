/* Unit tests of the object cache (l4mm_kcache_*) over a kpool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#include <sys/mman.h>

#define PS 4096u

struct cfix {
    struct arena a;
    struct l4mm_kpool p;
    struct l4mm_kcache c;
};

static struct cfix *cfix_new(size_t pages, size_t reserve, size_t obj_size,
                             enum l4mm_kpool_class cls)
{
    struct cfix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    arena_init(&f->a, PS, pages + 2);
    const struct l4mm_kpool_config cfg = { PS, reserve, reserve, pages + 8 };
    assert_int_equal(l4mm_kpool_init(&f->p, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < pages; i++)
        assert_int_equal(l4mm_kpool_give(&f->p, arena_page(&f->a, i)), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&f->c, &f->p, obj_size, cls), L4MM_OK);
    return f;
}

static void cfix_free(struct cfix *f)
{
    assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
    arena_fini(&f->a);
    free(f);
}

static size_t pool_pages(const struct l4mm_kpool *p)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(p, &s);
    return s.pages;
}

static struct l4mm_kcache_stats cstats(const struct l4mm_kcache *c)
{
    struct l4mm_kcache_stats s;
    l4mm_kcache_stats(c, &s);
    return s;
}

static void test_kcache_init_rejects_unservable_sizes_and_takes_no_pages(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(4, 0, 48, L4MM_KP_NORMAL);
    assert_int_equal(pool_pages(&f->p), 4);
    struct l4mm_kcache c;
    memset(&c, 0x3c, sizeof c);
    unsigned char ref[sizeof c];
    memcpy(ref, &c, sizeof c);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, 0, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, PS, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, PS - 8, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, SIZE_MAX, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, 16, (enum l4mm_kpool_class)3), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(&c, NULL, 16, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_init(NULL, &f->p, 16, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_memory_equal(&c, ref, sizeof c);
    /* the largest size that fits: one object per page, and one byte more is refused */
    size_t best = 0;
    for (size_t sz = PS; sz > 0 && best == 0; sz--)
        if (l4mm_kcache_init(&c, &f->p, sz, L4MM_KP_NORMAL) == L4MM_OK)
            best = sz;
    assert_true(best > PS / 2 && best < PS);
    assert_int_equal(l4mm_kcache_init(&c, &f->p, best + 1, L4MM_KP_NORMAL), L4MM_EINVAL);
    assert_int_equal(cstats(&c).objs_per_page, 1);
    void *o;
    assert_int_equal(l4mm_kcache_alloc(&c, &o), L4MM_OK);
    uintptr_t base = (uintptr_t)o & ~(uintptr_t)(PS - 1);
    assert_true((uintptr_t)o + best <= base + PS);
    assert_int_equal(l4mm_kcache_free(&c, o), L4MM_OK);
    assert_int_equal(l4mm_kcache_shrink(&c), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&c), L4MM_OK);
    assert_int_equal(pool_pages(&f->p), 4);
    cfix_free(f);
}

static void test_kcache_objects_are_distinct_aligned_and_never_span_pages(void **state)
{
    (void)state;
    const size_t sizes[] = { 1, 4, 8, 12, 48, 100, 1000, 2040 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct cfix *f = cfix_new(16, 0, sizes[k], L4MM_KP_NORMAL);
        size_t per = cstats(&f->c).objs_per_page;
        size_t n = per * 3 + 1;
        void **objs = calloc(n, sizeof *objs);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(l4mm_kcache_alloc(&f->c, &objs[i]), L4MM_OK);
            uintptr_t a = (uintptr_t)objs[i];
            assert_int_equal(a % 8, 0);
            uintptr_t base = a & ~(uintptr_t)(PS - 1);
            assert_true(a + sizes[k] <= base + PS);
            assert_true(a >= base + 32); /* past the slab header */
            memset(objs[i], (int)i, sizes[k]);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < sizes[k]; j++)
                assert_int_equal(((unsigned char *)objs[i])[j], (unsigned char)i);
        assert_int_equal(cstats(&f->c).pages, 4);
        assert_int_equal(cstats(&f->c).live, n);
        assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(l4mm_kcache_free(&f->c, objs[i]), L4MM_OK);
        /* no live objects: at most one empty page kept */
        assert_int_equal(cstats(&f->c).pages, 1);
        assert_int_equal(cstats(&f->c).empty_pages, 1);
        assert_int_equal(pool_pages(&f->p), 15);
        free(objs);
        cfix_free(f);
    }
}

static void test_kcache_keeps_one_empty_page_without_pool_traffic(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(4, 0, 64, L4MM_KP_NORMAL);
    void *o;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(l4mm_kcache_alloc(&f->c, &o), L4MM_OK);
        assert_int_equal(l4mm_kcache_free(&f->c, o), L4MM_OK);
    }
    struct l4mm_kcache_stats s = cstats(&f->c);
    assert_int_equal(s.pages_taken, 1);
    assert_int_equal(s.pages_returned, 0);
    assert_int_equal(s.pages, 1);
    assert_int_equal(pool_pages(&f->p), 3);
    assert_int_equal(l4mm_kcache_shrink(&f->c), L4MM_OK);
    assert_int_equal(pool_pages(&f->p), 4);
    assert_int_equal(cstats(&f->c).pages, 0);
    assert_int_equal(l4mm_kcache_shrink(&f->c), L4MM_OK);
    assert_int_equal(l4mm_kcache_shrink(NULL), L4MM_EINVAL);
    cfix_free(f);
}

static void test_kcache_second_empty_page_goes_back_to_pool(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(4, 0, 2100, L4MM_KP_NORMAL); /* 1 object per page */
    assert_int_equal(cstats(&f->c).objs_per_page, 1);
    void *a, *b, *c;
    assert_int_equal(l4mm_kcache_alloc(&f->c, &a), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&f->c, &b), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&f->c, &c), L4MM_OK);
    assert_int_equal(pool_pages(&f->p), 1);
    assert_int_equal(l4mm_kcache_free(&f->c, a), L4MM_OK); /* kept */
    assert_int_equal(pool_pages(&f->p), 1);
    assert_int_equal(l4mm_kcache_free(&f->c, b), L4MM_OK); /* returned */
    assert_int_equal(pool_pages(&f->p), 2);
    assert_int_equal(cstats(&f->c).empty_pages, 1);
    assert_int_equal(l4mm_kcache_free(&f->c, c), L4MM_OK);
    assert_int_equal(pool_pages(&f->p), 3);
    assert_int_equal(cstats(&f->c).pages, 1);
    /* stale pointer into a page returned to the pool is foreign now */
    assert_int_equal(l4mm_kcache_free(&f->c, b), L4MM_EINVAL);
    cfix_free(f);
}

static void test_kcache_free_refuses_pointers_it_did_not_hand_out(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(8, 0, 40, L4MM_KP_NORMAL);
    struct l4mm_kcache other;
    assert_int_equal(l4mm_kcache_init(&other, &f->p, 40, L4MM_KP_NORMAL), L4MM_OK);
    void *o1, *o2, *x;
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o1), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o2), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&other, &x), L4MM_OK);
    unsigned char *page = (unsigned char *)((uintptr_t)o1 & ~(uintptr_t)(PS - 1));
    struct l4mm_kcache_stats before = cstats(&f->c);
    /* misaligned within a slot, inside the header, past the last slot */
    assert_int_equal(l4mm_kcache_free(&f->c, (char *)o1 + 8), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, (char *)o1 + 1), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, page), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, page + 8), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, page + PS - 1), L4MM_EINVAL);
    /* another cache's object, a pool page, a page never given to anybody, the stack */
    assert_int_equal(l4mm_kcache_free(&f->c, x), L4MM_EINVAL);
    void *pp;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pp), L4MM_OK);
    memset(pp, 0, PS);
    assert_int_equal(l4mm_kcache_free(&f->c, (char *)pp + 64), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, arena_page(&f->a, 9)), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&f->c, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(NULL, o1), L4MM_EINVAL);
    /* a slot of this cache's page that was never handed out */
    size_t stride = cstats(&f->c).stride;
    char *o3 = (char *)o2 + ((char *)o2 > (char *)o1 ? stride : 2 * stride);
    assert_int_equal(l4mm_kcache_free(&f->c, o3), L4MM_ENOENT);
    /* double free */
    assert_int_equal(l4mm_kcache_free(&f->c, o2), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&f->c, o2), L4MM_ENOENT);
    struct l4mm_kcache_stats after = cstats(&f->c);
    assert_int_equal(after.live, before.live - 1);
    assert_int_equal(after.pages, before.pages);
    assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&other), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&f->c, o1), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&other, x), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, pp), L4MM_OK);
    cfix_free(f);
}

/* A pointer that is not in any page the cache ever used (a small heap object, a stack
 * variable, a page nobody may read) is refused without reading the page it lies in. Both the
 * function and the inline fast path. */
static void test_kcache_free_of_heap_or_stack_pointer_reads_nothing_of_its_page(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(4, 0, 40, L4MM_KP_NORMAL);
    void *o;
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o), L4MM_OK);
    size_t stride = cstats(&f->c).stride;
    for (size_t len = 24; len <= 3000; len += 997) {
        unsigned char *h = malloc(len);
        assert_non_null(h);
        for (size_t off = 0; off < len; off += stride / 2) {
            assert_int_equal(l4mm_kcache_free(&f->c, h + off), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(&f->c, h + off), L4MM_EINVAL);
        }
        free(h);
    }
    uint64_t local[8] = { 0 };
    assert_int_equal(l4mm_kcache_free(&f->c, &local[3]), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free_fast(&f->c, &local[5]), L4MM_EINVAL);
    /* a page nobody may read: any header read there would fault */
    unsigned char *np = mmap(NULL, PS, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(np != MAP_FAILED);
    for (size_t off = 0; off < PS; off += 8) {
        assert_int_equal(l4mm_kcache_free(&f->c, np + off), L4MM_EINVAL);
        assert_int_equal(l4mm_kcache_free_fast(&f->c, np + off), L4MM_EINVAL);
    }
    munmap(np, PS);
    assert_int_equal(cstats(&f->c).live, 1);
    assert_int_equal(l4mm_kcache_free(&f->c, o), L4MM_OK);
    cfix_free(f);
}

static void test_kcache_alloc_uses_its_class_and_fails_cleanly(void **state)
{
    (void)state;
    /* pool with 2 pages, reserve 2: NORMAL/DEFERRABLE caches get nothing, CRITICAL does */
    struct cfix *f = cfix_new(2, 2, 64, L4MM_KP_DEFERRABLE);
    void *o = NULL;
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o), L4MM_ENOMEM);
    assert_null(o);
    assert_int_equal(cstats(&f->c).pages, 0);
    assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
    struct l4mm_kcache crit;
    assert_int_equal(l4mm_kcache_init(&crit, &f->p, 64, L4MM_KP_CRITICAL), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&crit, &o), L4MM_OK);
    assert_int_equal(pool_pages(&f->p), 1);
    assert_int_equal(l4mm_kcache_alloc(NULL, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_alloc(&crit, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kcache_free(&crit, o), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&crit), L4MM_OK);
    cfix_free(f);
}

static void test_kcache_full_and_partial_transitions_keep_invariants(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(8, 0, 512, L4MM_KP_NORMAL);
    size_t per = cstats(&f->c).objs_per_page;
    void *objs[64];
    size_t n = per * 4;
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l4mm_kcache_alloc(&f->c, &objs[i]), L4MM_OK);
        assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
    }
    /* free every other object, then the rest, checking after each step */
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = pass; i < n; i += 2) {
            assert_int_equal(l4mm_kcache_free(&f->c, objs[i]), L4MM_OK);
            assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
        }
    assert_int_equal(cstats(&f->c).live, 0);
    assert_int_equal(cstats(&f->c).pages, 1);
    cfix_free(f);
}

static void test_kcache_check_detects_corruption(void **state)
{
    (void)state;
    for (int kind = 0; kind < 9; kind++) {
        struct cfix *f = cfix_new(4, 0, 64, L4MM_KP_NORMAL);
        void *o[5];
        for (int i = 0; i < 5; i++)
            assert_int_equal(l4mm_kcache_alloc(&f->c, &o[i]), L4MM_OK);
        assert_int_equal(l4mm_kcache_free(&f->c, o[1]), L4MM_OK);
        assert_int_equal(l4mm_kcache_free(&f->c, o[3]), L4MM_OK);
        assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
        unsigned char *page = (unsigned char *)((uintptr_t)o[0] & ~(uintptr_t)(PS - 1));
        unsigned char saved[128];
        memcpy(saved, page, sizeof saved);
        /* the per-slot link array follows the slab header */
        uint16_t *nx = (uint16_t *)(void *)(page + sizeof(struct l4mm_kcache_slab));
        struct l4mm_kcache csaved = f->c;
        switch (kind) {
        case 0: page[0] ^= 1; break;       /* slab tag */
        case 1: f->c.pages_taken++; break; /* totals */
        case 2: f->c.nslabs++; break;
        case 3: f->c.stride = 60; break;              /* geometry */
        case 4: nx[3] = 0x7fff; break;                /* free-list link (o[3] is the head) */
        case 5: page[sizeof(void *) * 3] ^= 1; break; /* inuse */
        case 6: nx[0] = 0xffff; break;                /* slot 0 in use, entry says free */
        case 7: f->c.cur = (struct l4mm_kcache_slab *)(void *)((char *)f->c.cur + 8); break;
        case 8: f->c.key ^= 2; break;
        }
        assert_int_equal(l4mm_kcache_check(&f->c), L4MM_ECORRUPT);
        memcpy(page, saved, sizeof saved);
        f->c = csaved;
        assert_int_equal(l4mm_kcache_check(&f->c), L4MM_OK);
        cfix_free(f);
    }
    assert_int_equal(l4mm_kcache_check(NULL), L4MM_EINVAL);
}

/* A kcache_free from inside an oom hook can release a page into the pool (like a give). */
struct oomctx {
    struct l4mm_kcache *c;
    void *objs[8];
    size_t n;
};

static enum l4mm_oom_action free_objs_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    (void)cls;
    (void)attempt;
    struct oomctx *x = ctx;
    while (x->n > 0)
        assert_int_equal(l4mm_kcache_free(x->c, x->objs[--x->n]), L4MM_OK);
    assert_int_equal(l4mm_kcache_shrink(x->c), L4MM_OK);
    void *o;
    assert_int_equal(l4mm_kcache_alloc(x->c, &o), L4MM_EBUSY);
    return L4MM_OOM_RETRY;
}

static void test_kcache_free_and_shrink_work_inside_pool_hooks(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, PS, 2);
    struct l4mm_kpool p;
    struct l4mm_kcache c;
    struct oomctx x = { &c, { 0 }, 0 };
    const struct l4mm_kpool_config cfg = { PS, 0, 0, 4 };
    const struct l4mm_kpool_ops ops = { NULL, NULL, free_objs_oom, &x };
    assert_int_equal(l4mm_kpool_init(&p, &cfg, &ops), L4MM_OK);
    assert_int_equal(l4mm_kpool_give(&p, arena_page(&a, 0)), L4MM_OK);
    assert_int_equal(l4mm_kpool_give(&p, arena_page(&a, 1)), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&c, &p, 2100, L4MM_KP_NORMAL), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&c, &x.objs[0]), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&c, &x.objs[1]), L4MM_OK);
    x.n = 2;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(cstats(&c).pages, 0);
    assert_int_equal(l4mm_kpool_free(&p, pg), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&c), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&p), L4MM_OK);
    assert_int_equal(pool_pages(&p), 2);
    arena_fini(&a);
}

#ifdef L4MM_HARDEN
static void test_kcache_harden_refuses_overwritten_free_list(void **state)
{
    (void)state;
    struct cfix *f = cfix_new(4, 0, 32, L4MM_KP_NORMAL);
    void *o1, *o2, *o3;
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o1), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o2), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&f->c, o2), L4MM_OK);
    /* a wild write damages the free-list link of o2's slot in the slab header */
    unsigned char *page = (unsigned char *)((uintptr_t)o1 & ~(uintptr_t)(PS - 1));
    uint16_t *nx = (uint16_t *)(void *)(page + sizeof(struct l4mm_kcache_slab));
    size_t idx = (size_t)((char *)o2 - (char *)o1) / cstats(&f->c).stride; /* o1: slot 0 */
    uint16_t saved = nx[idx];
    nx[idx] = 0x7fff;
    struct l4mm_kcache_stats before = cstats(&f->c);
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o3), L4MM_ECORRUPT);
    struct l4mm_kcache_stats after = cstats(&f->c);
    assert_int_equal(before.live, after.live);
    assert_int_equal(l4mm_kcache_check(&f->c), L4MM_ECORRUPT);
    nx[idx] = saved; /* repair, so the fixture's final check passes */
    assert_int_equal(l4mm_kcache_alloc(&f->c, &o3), L4MM_OK);
    assert_ptr_equal(o3, o2);
    assert_int_equal(l4mm_kcache_free(&f->c, o1), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&f->c, o3), L4MM_OK);
    cfix_free(f);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcache_init_rejects_unservable_sizes_and_takes_no_pages),
        cmocka_unit_test(test_kcache_objects_are_distinct_aligned_and_never_span_pages),
        cmocka_unit_test(test_kcache_keeps_one_empty_page_without_pool_traffic),
        cmocka_unit_test(test_kcache_second_empty_page_goes_back_to_pool),
        cmocka_unit_test(test_kcache_free_refuses_pointers_it_did_not_hand_out),
        cmocka_unit_test(test_kcache_free_of_heap_or_stack_pointer_reads_nothing_of_its_page),
        cmocka_unit_test(test_kcache_alloc_uses_its_class_and_fails_cleanly),
        cmocka_unit_test(test_kcache_full_and_partial_transitions_keep_invariants),
        cmocka_unit_test(test_kcache_check_detects_corruption),
        cmocka_unit_test(test_kcache_free_and_shrink_work_inside_pool_hooks),
#ifdef L4MM_HARDEN
        cmocka_unit_test(test_kcache_harden_refuses_overwritten_free_list),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
