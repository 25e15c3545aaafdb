/* The inline object-cache fast paths (l4mm_kcache_alloc_fast / l4mm_kcache_free_fast) give
 * exactly the results and effects of the functions, including every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#define PS     4096u
#define NPAGES 6u
#define HELD   1200u

struct side {
    struct arena a;
    struct l4mm_kpool p;
    struct l4mm_kcache c;
    void *held[HELD];
    size_t n;
};

static void side_init(struct side *s, size_t obj_size)
{
    arena_init(&s->a, PS, NPAGES);
    const struct l4mm_kpool_config cfg = { PS, 1, 1, NPAGES };
    assert_int_equal(l4mm_kpool_init(&s->p, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < NPAGES; i++)
        assert_int_equal(l4mm_kpool_give(&s->p, arena_page(&s->a, i)), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&s->c, &s->p, obj_size, L4MM_KP_NORMAL), L4MM_OK);
    s->n = 0;
}

static size_t offset_of(const struct side *s, const void *obj)
{
    return (size_t)((const unsigned char *)obj - s->a.mem);
}

static void same_state(const struct side *a, const struct side *b)
{
    struct l4mm_kcache_stats sa, sb;
    memset(&sa, 0, sizeof sa);
    memset(&sb, 0, sizeof sb);
    l4mm_kcache_stats(&a->c, &sa);
    l4mm_kcache_stats(&b->c, &sb);
    assert_memory_equal(&sa, &sb, sizeof sa);
    assert_int_equal(sa.live, a->n);
    struct l4mm_kpool_stats pa, pb;
    memset(&pa, 0, sizeof pa);
    memset(&pb, 0, sizeof pb);
    l4mm_kpool_stats(&a->p, &pa);
    l4mm_kpool_stats(&b->p, &pb);
    assert_memory_equal(&pa, &pb, sizeof pa);
    assert_int_equal(l4mm_kcache_check(&a->c), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&b->c), L4MM_OK);
}

static void run_size(size_t obj_size, uint64_t seed)
{
    struct side *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    side_init(a, obj_size);
    side_init(b, obj_size);
    uint64_t x = seed;
    size_t frees = 0, allocs = 0, nomem = 0;
    for (int op = 0; op < 6000; op++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned r = (unsigned)(x % 16);
        if (r < 7 && a->n < HELD) {
            void *oa = NULL, *ob = NULL;
            l4mm_status sa = l4mm_kcache_alloc(&a->c, &oa);
            l4mm_status sb = l4mm_kcache_alloc_fast(&b->c, &ob);
            assert_int_equal(sa, sb);
            if (sa == L4MM_OK) {
                assert_int_equal(offset_of(a, oa), offset_of(b, ob));
                a->held[a->n++] = oa;
                b->held[b->n++] = ob;
                allocs++;
            } else {
                assert_int_equal(sa, L4MM_ENOMEM);
                assert_null(ob);
                nomem++;
            }
        } else if (r < 13 && a->n > 0) {
            size_t k = (size_t)(x / 16 % a->n);
            assert_int_equal(l4mm_kcache_free(&a->c, a->held[k]), L4MM_OK);
            assert_int_equal(l4mm_kcache_free_fast(&b->c, b->held[k]), L4MM_OK);
            /* the same object again: both refuse it, as a double free */
            l4mm_status sa = l4mm_kcache_free(&a->c, a->held[k]);
            assert_int_equal(sa, l4mm_kcache_free_fast(&b->c, b->held[k]));
            assert_true(sa == L4MM_ENOENT || sa == L4MM_EINVAL); /* EINVAL: page went back */
            a->held[k] = a->held[--a->n];
            b->held[k] = b->held[--b->n];
            frees++;
        } else if (r == 13 && a->n > 0) {
            /* not the start of a slot, a slab header, the page base, NULL, no cache */
            size_t k = (size_t)(x / 16 % a->n);
            unsigned char *oa = a->held[k], *ob = b->held[k];
            uintptr_t pga = (uintptr_t)oa & ~(uintptr_t)(PS - 1);
            uintptr_t pgb = (uintptr_t)ob & ~(uintptr_t)(PS - 1);
            assert_int_equal(l4mm_kcache_free(&a->c, oa + 4), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(&b->c, ob + 4), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free(&a->c, (void *)(pga + 8)), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(&b->c, (void *)(pgb + 8)), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(&b->c, (void *)pgb), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(&b->c, NULL), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_free_fast(NULL, ob), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_alloc_fast(&b->c, NULL), L4MM_EINVAL);
            assert_int_equal(l4mm_kcache_alloc_fast(NULL, (void **)&ob), L4MM_EINVAL);
        } else if (r == 14) {
            assert_int_equal(l4mm_kcache_shrink(&a->c), l4mm_kcache_shrink(&b->c));
        } else if (r == 15 && b->n > 0) {
            /* a page of the pool (not a slab) is foreign to the cache */
            void *pa, *pb;
            l4mm_status sa = l4mm_kpool_alloc(&a->p, L4MM_KP_CRITICAL, &pa);
            assert_int_equal(sa, l4mm_kpool_alloc(&b->p, L4MM_KP_CRITICAL, &pb));
            if (sa == L4MM_OK) {
                size_t off = (size_t)((uintptr_t)b->held[0] & (PS - 1)); /* a slot offset */
                memset(pb, 0, PS);
                assert_int_equal(l4mm_kcache_free_fast(&b->c, (char *)pb + off), L4MM_EINVAL);
                assert_int_equal(l4mm_kpool_free(&a->p, pa), L4MM_OK);
                assert_int_equal(l4mm_kpool_free(&b->p, pb), L4MM_OK);
            }
        }
        same_state(a, b);
    }
    assert_true(allocs > 100 && frees > 100);
    if (obj_size >= 200)
        assert_true(nomem > 0); /* the pool ran dry: ENOMEM compared too */
    while (a->n > 0) {
        a->n--;
        b->n--;
        assert_int_equal(l4mm_kcache_free(&a->c, a->held[a->n]), L4MM_OK);
        assert_int_equal(l4mm_kcache_free_fast(&b->c, b->held[b->n]), L4MM_OK);
    }
    same_state(a, b);
    assert_int_equal(l4mm_kcache_shrink(&b->c), L4MM_OK);
    assert_int_equal(l4mm_kcache_shrink(&a->c), L4MM_OK);
    same_state(a, b);
    assert_int_equal(l4mm_kpool_check(&a->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&b->p), L4MM_OK);
    arena_fini(&a->a);
    arena_fini(&b->a);
    free(a);
    free(b);
}

static void test_kcache_inline_fast_paths_match_functions(void **state)
{
    (void)state;
    /* many objects per page, a few, two (cap 2: no fast free), one (cap 1) */
    const size_t sizes[] = { 8, 24, 48, 200, 1000, 2000, 2100 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        run_size(sizes[i], 0x9e3779b97f4a7c15ULL + i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kcache_inline_fast_paths_match_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
