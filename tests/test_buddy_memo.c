/*
 * test_buddy_memo.c - the ghost split and its memo: an order-0 alloc that starts a split
 * with none pending writes nothing; its free keeps the search result, and the next order-0
 * alloc reuses it if no other mutating call came in between. Every answer must still be the
 * best fit (smallest free block, lowest address), stats must be canonical at every point,
 * failing calls must change nothing, and every other mutating call must drop the memo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <l4mm/buddy.h>

#include "test_buddy_util.h"

#define NU 512u /* units in the test range */

/* Reference: unit states through unit_state, canonical blocks of order <= mo. */
struct ref {
    int st[NU];
    uint64_t blocks[64];
    int largest;
};

static void ref_build(const struct fx *f, uint64_t xb, unsigned mo, struct ref *r)
{
    memset(r, 0, sizeof *r);
    r->largest = -1;
    for (unsigned i = 0; i < NU; i++)
        assert_int_equal(l4mm_buddy_unit_state(&f->b, (xb + i) * PG, &r->st[i]), L4MM_OK);
    for (unsigned i = 0; i < NU;) {
        int k = -1;
        while ((unsigned)(k + 1) <= mo) {
            uint64_t sz = (uint64_t)1 << (k + 1), x = xb + i;
            int ok = (x & (sz - 1u)) == 0 && i + sz <= NU;
            for (uint64_t j = 0; ok && j < sz; j++)
                ok = r->st[i + j] == 1;
            if (!ok)
                break;
            k++;
        }
        if (k < 0) {
            i++;
            continue;
        }
        r->blocks[k]++;
        if (k > r->largest)
            r->largest = k;
        i += 1u << k;
    }
}

/* Stats must equal the reference decomposition; returns the best-fit address for order o
 * (lowest address among the blocks of the smallest order >= o), or UINT64_MAX. */
static uint64_t canonical_and_best_fit(const struct fx *f, uint64_t xb, unsigned mo, unsigned o)
{
    struct ref r;
    struct l4mm_buddy_stats s;
    uint64_t fu = 0, au = 0;
    ref_build(f, xb, mo, &r);
    l4mm_buddy_stats(&f->b, &s);
    for (unsigned i = 0; i < NU; i++) {
        fu += r.st[i] == 1;
        au += r.st[i] == 2;
    }
    assert_int_equal(s.free_units, fu);
    assert_int_equal(s.allocated_units, au);
    assert_int_equal(s.reserved_units, NU - fu - au);
    assert_int_equal(s.largest_free_order, r.largest);
    for (unsigned k = 0; k < 64; k++)
        assert_int_equal(s.free_blocks[k], r.blocks[k]);
    assert_int_equal(l4mm_buddy_check_quick(&f->b), L4MM_OK);
    assert_int_equal(l4mm_buddy_check(&f->b), L4MM_OK);
    for (unsigned k = o; k <= mo; k++) {
        if (!r.blocks[k])
            continue;
        for (unsigned i = 0; i < NU;) { /* walk the decomposition again, find the first */
            int kk = -1;
            while ((unsigned)(kk + 1) <= mo) {
                uint64_t sz = (uint64_t)1 << (kk + 1), x = xb + i;
                int ok = (x & (sz - 1u)) == 0 && i + sz <= NU;
                for (uint64_t j = 0; ok && j < sz; j++)
                    ok = r.st[i + j] == 1;
                if (!ok)
                    break;
                kk++;
            }
            if (kk < 0) {
                i++;
                continue;
            }
            if ((unsigned)kk == k)
                return (xb + i) * PG;
            i += 1u << kk;
        }
    }
    return UINT64_MAX;
}

/* One alloc of order o, checked against the best fit before it. */
static l4mm_addr_t alloc_best(struct fx *f, uint64_t xb, unsigned mo, unsigned o)
{
    l4mm_addr_t a = 0;
    uint64_t want = canonical_and_best_fit(f, xb, mo, o);
    assert_true(want != UINT64_MAX);
    assert_int_equal(l4mm_buddy_alloc(&f->b, o, &a), L4MM_OK);
    assert_int_equal(a, want);
    (void)canonical_and_best_fit(f, xb, mo, 0);
    return a;
}

static void free_ok(struct fx *f, uint64_t xb, unsigned mo, l4mm_addr_t a, unsigned o)
{
    assert_int_equal(l4mm_buddy_free(&f->b, a, o), L4MM_OK);
    (void)canonical_and_best_fit(f, xb, mo, 0);
}

/* Ping-pong: the same block again and again, metadata bytes untouched throughout. */
static void test_buddy_memo_ping_pong_writes_no_metadata_and_stays_best_fit(void **s)
{
    struct fx f;
    uint64_t *m0;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, NU * PG, 12, 9); /* one free order-9 block */
    assert_int_equal(l4mm_buddy_add(&f.b, 0, NU * PG), L4MM_OK);
    m0 = malloc(f.msz);
    assert_non_null(m0);
    memcpy(m0, f.meta, f.msz);
    for (int i = 0; i < 50; i++) {
        a = alloc_best(&f, 0, 9, 0);
        assert_int_equal(a, 0);
        assert_memory_equal(f.meta, m0, f.msz);
        free_ok(&f, 0, 9, a, 0);
        assert_memory_equal(f.meta, m0, f.msz);
    }
    /* with a small block elsewhere the best fit is that block, never the memo's */
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 256 * PG, 0), L4MM_OK); /* drops the memo */
    a = alloc_best(&f, 0, 9, 0);
    assert_int_equal(a, 257 * PG);
    free_ok(&f, 0, 9, a, 0);
    a = alloc_best(&f, 0, 9, 0);
    assert_int_equal(a, 257 * PG);
    free_ok(&f, 0, 9, a, 0);
    free_ok(&f, 0, 9, 256 * PG, 0);
    assert_memory_equal(f.meta, m0, f.msz);
    free(m0);
    fx_done(&f);
}

/* Failing calls while the memo or a live ghost is there change nothing, not even the memo. */
static void test_buddy_memo_survives_failing_calls_unchanged(void **s)
{
    struct fx f;
    struct l4mm_buddy b0;
    uint64_t *m0;
    l4mm_addr_t a, x;
    (void)s;
    fx_init(&f, 0, NU * PG, 12, 9);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 256 * PG), L4MM_OK); /* one order-8 block */
    m0 = malloc(f.msz);
    assert_non_null(m0);
    for (int live = 0; live < 2; live++) {
        a = alloc_best(&f, 0, 9, 0);
        if (!live)
            free_ok(&f, 0, 9, a, 0);
        memcpy(m0, f.meta, f.msz);
        b0 = f.b;
        assert_int_equal(l4mm_buddy_alloc(&f.b, 9, &x), L4MM_ENOMEM);
        assert_int_equal(l4mm_buddy_alloc(&f.b, 10, &x), L4MM_EINVAL);
        assert_int_equal(l4mm_buddy_alloc(&f.b, 0, NULL), L4MM_EINVAL);
        assert_int_equal(l4mm_buddy_alloc(&f.b, 8, &x), live ? L4MM_ENOMEM : L4MM_OK);
        if (!live) {
            assert_int_equal(x, 0);
            free_ok(&f, 0, 9, x, 8);
            assert_memory_equal(f.meta, m0, f.msz);
            b0 = f.b; /* the alloc of order 8 dropped the memo */
        }
        assert_int_equal(l4mm_buddy_free(&f.b, 0, 1), L4MM_ENOENT);
        assert_int_equal(l4mm_buddy_free(&f.b, PG, 0), L4MM_ENOENT);
        assert_int_equal(l4mm_buddy_free(&f.b, 1, 0), L4MM_EINVAL);
        assert_int_equal(l4mm_buddy_free(&f.b, 0, 10), L4MM_EINVAL);
        assert_int_equal(l4mm_buddy_alloc_at(&f.b, 0, 1), live ? L4MM_EBUSY : L4MM_OK);
        if (!live) {
            free_ok(&f, 0, 9, 0, 1);
            b0 = f.b;
        }
        assert_int_equal(l4mm_buddy_alloc_at(&f.b, 256 * PG, 0), L4MM_EBUSY);
        assert_int_equal(l4mm_buddy_alloc_in(&f.b, 0, 256 * PG, NU * PG, &x), L4MM_ENOMEM);
        assert_int_equal(l4mm_buddy_alloc_in(&f.b, 8, 0, 256 * PG, &x),
                         live ? L4MM_ENOMEM : L4MM_OK);
        if (!live) {
            free_ok(&f, 0, 9, x, 8);
            b0 = f.b;
        }
        assert_int_equal(l4mm_buddy_add(&f.b, 255 * PG, 2 * PG), L4MM_EBUSY);
        assert_int_equal(l4mm_buddy_take(&f.b, 0, 257 * PG), L4MM_EBUSY);
        if (live) /* the ghost's unit is allocated */
            assert_int_equal(l4mm_buddy_take(&f.b, 0, 256 * PG), L4MM_EBUSY);
        assert_int_equal(l4mm_buddy_take(&f.b, 255 * PG, 2 * PG), L4MM_EBUSY);
        assert_memory_equal(f.meta, m0, f.msz);
        assert_memory_equal(&f.b, &b0, sizeof f.b);
        (void)canonical_and_best_fit(&f, 0, 9, 0);
        if (live)
            free_ok(&f, 0, 9, a, 0);
    }
    free(m0);
    fx_done(&f);
}

/* Between two ping-pongs, each other kind of mutating call; the next alloc must be the best
 * fit of the new state (the memo must not have survived), and freeing everything must give
 * the bytes of a fresh instance after the same adds. */
static void test_buddy_memo_is_dropped_by_every_other_mutating_call(void **s)
{
    (void)s;
    for (unsigned op = 0; op < 9; op++) {
        struct fx f, g;
        l4mm_addr_t a, x = 0, y = 0;
        const uint64_t xb = 1024; /* units 1024..1535: order-9 aligned */
        fx_init(&f, xb * PG, NU * PG, 12, 9);
        fx_init(&g, xb * PG, NU * PG, 12, 9);
        assert_int_equal(l4mm_buddy_add(&f.b, xb * PG, 256 * PG), L4MM_OK);
        assert_int_equal(l4mm_buddy_add(&g.b, xb * PG, 256 * PG), L4MM_OK);
        /* a block to free later (written split: no pending one), then the memo (order-0
         * ping-pong): free blocks 1032 (order 3), 1040 (4), 1056 (5), 1088 (6), 1152 (7) */
        y = xb * PG;
        assert_int_equal(l4mm_buddy_alloc_at(&f.b, y, 3), L4MM_OK);
        a = alloc_best(&f, xb, 9, 0);
        assert_int_equal(a, (xb + 8) * PG);
        free_ok(&f, xb, 9, a, 0);
        a = alloc_best(&f, xb, 9, 0);
        free_ok(&f, xb, 9, a, 0);
        switch (op) {
        case 0: /* alloc_at in another block: leaves a smaller one there */
            x = (xb + 16) * PG;
            assert_int_equal(l4mm_buddy_alloc_at(&f.b, x, 0), L4MM_OK);
            break;
        case 1: /* alloc_in of order 0 somewhere else */
            assert_int_equal(l4mm_buddy_alloc_in(&f.b, 0, (xb + 76) * PG, (xb + 77) * PG, &x),
                             L4MM_OK);
            assert_int_equal(x, (xb + 76) * PG);
            break;
        case 2: /* add of a range that makes a smaller free block */
            assert_int_equal(l4mm_buddy_add(&f.b, (xb + 300) * PG, PG), L4MM_OK);
            assert_int_equal(l4mm_buddy_add(&g.b, (xb + 300) * PG, PG), L4MM_OK);
            break;
        case 3: /* take of the memo's own unit */
            assert_int_equal(l4mm_buddy_take(&f.b, a, PG), L4MM_OK);
            assert_int_equal(l4mm_buddy_take(&g.b, a, PG), L4MM_OK);
            break;
        case 4: /* free of another block: order 3 at the base */
            free_ok(&f, xb, 9, y, 3);
            y = 0;
            break;
        case 5: /* alloc of order 1 */ x = alloc_best(&f, xb, 9, 1); break;
        case 6: /* alloc of a higher order */ x = alloc_best(&f, xb, 9, 5); break;
        case 7: /* two order-0 allocs in a row (the second writes the ghost out) */
            x = alloc_best(&f, xb, 9, 0);
            break;
        default: /* nothing: the memo is used */ break;
        }
        (void)canonical_and_best_fit(&f, xb, 9, 0);
        for (int i = 0; i < 3; i++) { /* ping-pong again, best fit each time */
            a = alloc_best(&f, xb, 9, 0);
            free_ok(&f, xb, 9, a, 0);
        }
        if (x)
            free_ok(&f, xb, 9, x, op == 5 ? 1 : op == 6 ? 5 : 0);
        if (y)
            free_ok(&f, xb, 9, y, 3);
        assert_memory_equal(f.meta, g.meta, f.msz);
        fx_done(&g);
        fx_done(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_memo_ping_pong_writes_no_metadata_and_stays_best_fit),
        cmocka_unit_test(test_buddy_memo_survives_failing_calls_unchanged),
        cmocka_unit_test(test_buddy_memo_is_dropped_by_every_other_mutating_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
