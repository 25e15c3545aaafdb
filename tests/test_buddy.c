/*
 * test_buddy.c - unit tests: every status of every buddy function and geometry corner cases.
 * (Corruption detection and "never touches managed memory": test_buddy_check.c.)
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

static struct l4mm_buddy_stats st(const struct fx *f)
{
    struct l4mm_buddy_stats s;
    l4mm_buddy_stats(&f->b, &s);
    return s;
}

/* Snapshot helpers: an error must change nothing. */
static uint64_t snap[1 << 16];
static struct l4mm_buddy snapb;

static void take_snap(const struct fx *f)
{
    assert_true(f->msz <= sizeof snap);
    memcpy(snap, f->meta, f->msz);
    memcpy(&snapb, &f->b, sizeof snapb);
}

static void same_as_snap(const struct fx *f)
{
    assert_memory_equal(snap, f->meta, f->msz);
    assert_memory_equal(&snapb, &f->b, sizeof snapb);
}

#define EXPECT_ERR(f, call, err)                                                                   \
    do {                                                                                           \
        take_snap(f);                                                                              \
        assert_int_equal((call), (err));                                                           \
        same_as_snap(f);                                                                           \
    } while (0)

/* ---- meta_size / init ---------------------------------------------------------------------- */

static void test_buddy_meta_size_is_below_half_a_byte_per_page(void **s)
{
    (void)s;
    static const uint64_t sizes[] = { 1 * MiB,          3 * MiB + PG, 1 * GiB,
                                      1 * GiB + 5 * PG, 7 * GiB - PG, 64 * GiB };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (unsigned mo = 0; mo <= 40; mo += 10) {
            size_t m = l4mm_buddy_meta_size(PG * 3, sizes[i], 12, mo);
            uint64_t pages = sizes[i] / PG;
            assert_true(m % 8 == 0);
            /* 0.39 byte per page plus at most 16 bytes per order of fixed overhead */
            assert_true((double)m <= 0.39 * (double)pages + 16.0 * (mo + 2));
            if (pages >= 16384)
                assert_true((double)m / (double)pages <= 0.39);
        }
    }
}

static void test_buddy_meta_size_rejects_malformed_geometry(void **s)
{
    (void)s;
    assert_int_equal(l4mm_buddy_meta_size(0, 0, 12, 10), 0);
    assert_int_equal(l4mm_buddy_meta_size(1, PG, 12, 10), 0);
    assert_int_equal(l4mm_buddy_meta_size(0, PG + 1, 12, 10), 0);
    assert_int_equal(l4mm_buddy_meta_size(UINT64_MAX - PG + 1, 2 * PG, 0, 10), 0);
    assert_int_equal(l4mm_buddy_meta_size(0, PG, 12, 52), 0);
    assert_true(l4mm_buddy_meta_size(0, PG, 12, 51) > 0);
    /* a range whose metadata could not be addressed */
    assert_int_equal(l4mm_buddy_meta_size(0, UINT64_MAX, 0, 10), SIZE_MAX);
}

static void test_buddy_init_rejects_bad_arguments_with_einval(void **s)
{
    struct l4mm_buddy b;
    size_t m = l4mm_buddy_meta_size(0, 1 * MiB, 12, 8);
    uint64_t *meta = calloc(1, m + 16);
    (void)s;
    assert_non_null(meta);
    assert_int_equal(l4mm_buddy_init(NULL, meta, m, 0, MiB, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, NULL, m, 0, MiB, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, (char *)meta + 4, m, 0, MiB, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m - 8, 0, MiB, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, 8, MiB, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, 0, MiB + 8, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, 0, 0, 12, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, UINT64_MAX - PG + 1, 2 * PG, 12, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, 0, MiB, 12, 52), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m, 0, MiB, 64, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&b, meta, m + 16, 0, MiB, 12, 8), L4MM_OK);
    assert_int_equal(l4mm_buddy_check(&b), L4MM_OK);
    free(meta);
}

static void test_buddy_init_leaves_every_unit_reserved(void **s)
{
    struct fx f;
    struct l4mm_buddy_stats x;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 5 * PG, 100 * PG, 12, 51); /* max_order far beyond the range */
    x = st(&f);
    assert_int_equal(x.reserved_units, 100);
    assert_int_equal(x.free_units, 0);
    assert_int_equal(x.allocated_units, 0);
    assert_int_equal(x.largest_free_order, -1);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_ENOMEM);
    fx_done(&f);
}

/* ---- add / take ------------------------------------------------------------------------ */

static void test_buddy_add_rejects_malformed_ranges_with_einval(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 16 * PG, 64 * PG, 12, 10);
    EXPECT_ERR(&f, l4mm_buddy_add(NULL, 16 * PG, PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 16 * PG, 0), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 16 * PG + 1, PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 16 * PG, PG + 1), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 15 * PG, 2 * PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 79 * PG, 2 * PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 80 * PG, PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 16 * PG, UINT64_MAX - PG + 1), L4MM_EINVAL);
    fx_done(&f);
}

static void test_buddy_add_of_non_reserved_units_returns_ebusy(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 16 * PG, 64 * PG, 12, 10);
    assert_int_equal(l4mm_buddy_add(&f.b, 20 * PG, 8 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 20 * PG, 8 * PG), L4MM_EBUSY);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 16 * PG, 5 * PG), L4MM_EBUSY);
    EXPECT_ERR(&f, l4mm_buddy_add(&f.b, 27 * PG, 30 * PG), L4MM_EBUSY);
    EXPECT_ERR(&f, l4mm_buddy_alloc(&f.b, 3, &a), L4MM_ENOMEM); /* 20..27 holds no order 3 */
    assert_int_equal(l4mm_buddy_alloc(&f.b, 2, &a), L4MM_OK);
    assert_int_equal(a, 20 * PG);
    fx_done(&f);
}

static void test_buddy_add_coalesces_into_naturally_aligned_blocks(void **s)
{
    struct fx f;
    struct l4mm_buddy_stats x;
    (void)s;
    fx_init(&f, 3 * PG, 61 * PG, 12, 10); /* units 3..63 */
    assert_int_equal(l4mm_buddy_add(&f.b, 3 * PG, 61 * PG), L4MM_OK);
    x = st(&f);
    /* 3 | 4-7 | 8-15 | 16-31 | 32-63 */
    assert_int_equal(x.free_blocks[0], 1);
    assert_int_equal(x.free_blocks[2], 1);
    assert_int_equal(x.free_blocks[3], 1);
    assert_int_equal(x.free_blocks[4], 1);
    assert_int_equal(x.free_blocks[5], 1);
    assert_int_equal(x.free_units, 61);
    assert_int_equal(x.largest_free_order, 5);
    fx_done(&f);
}

static void test_buddy_take_rejects_malformed_ranges_with_einval(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 10);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_take(NULL, 0, PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 0, 0), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 1, PG), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 0, 3), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 63 * PG, 2 * PG), L4MM_EINVAL);
    fx_done(&f);
}

static void test_buddy_take_of_non_free_units_returns_ebusy(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 10);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 0, PG), L4MM_EBUSY); /* reserved */
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 32 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 0, 33 * PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 8 * PG, 1), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_take(&f.b, 4 * PG, 8 * PG), L4MM_EBUSY); /* allocated */
    assert_int_equal(l4mm_buddy_take(&f.b, 4 * PG, 4 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f.b, 10 * PG, 22 * PG), L4MM_OK);
    assert_int_equal(st(&f).free_units, 4);
    fx_done(&f);
}

static void test_buddy_take_of_256_mib_is_per_range(void **s)
{
    struct fx f;
    struct l4mm_buddy_stats x;
    (void)s;
    fx_init(&f, 0, 1 * GiB, 12, 18);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, GiB), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f.b, 256 * MiB, 256 * MiB), L4MM_OK);
    x = st(&f);
    assert_int_equal(x.reserved_units, 65536);
    assert_int_equal(x.free_blocks[18], 0);
    assert_int_equal(x.free_blocks[17], 1);
    assert_int_equal(x.free_blocks[16], 1);
    assert_int_equal(l4mm_buddy_add(&f.b, 256 * MiB, 256 * MiB), L4MM_OK);
    assert_int_equal(st(&f).free_blocks[18], 1);
    fx_done(&f);
}

/* ---- alloc / alloc_in / alloc_at ------------------------------------------------------- */

static void test_buddy_alloc_rejects_bad_order_and_null_with_einval(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc(&f.b, 5, &a), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc(&f.b, 0, NULL), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc(NULL, 0, &a), L4MM_EINVAL);
    assert_int_equal(st(&f).free_blocks[4], 4);
    fx_done(&f);
}

static void test_buddy_alloc_returns_enomem_only_when_nothing_fits(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 8 * PG, 12, 20); /* max_order beyond the range */
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 8 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc(&f.b, 4, &a), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 3, &a), L4MM_OK);
    assert_int_equal(a, 0);
    EXPECT_ERR(&f, l4mm_buddy_alloc(&f.b, 0, &a), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_free(&f.b, 0, 3), L4MM_OK);
    assert_int_equal(st(&f).free_blocks[3], 1);
    fx_done(&f);
}

static void test_buddy_alloc_aligns_blocks_absolutely_with_unaligned_base(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0x123000, 300 * PG, 12, 10);
    assert_int_equal(l4mm_buddy_add(&f.b, 0x123000, 300 * PG), L4MM_OK);
    for (unsigned k = 0; k <= 6; k++) {
        assert_int_equal(l4mm_buddy_alloc(&f.b, k, &a), L4MM_OK);
        assert_int_equal(a & ((PG << k) - 1), 0);
        assert_true(a >= 0x123000 && a + (PG << k) <= 0x123000 + 300 * PG);
    }
    fx_done(&f);
}

static void test_buddy_alloc_uses_address_zero(void **s)
{
    struct fx f;
    l4mm_addr_t a = 1;
    (void)s;
    fx_init(&f, 0, 2 * PG, 12, 0);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 2 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, PG);
    fx_done(&f);
}

static void test_buddy_alloc_in_rejects_bad_arguments_with_einval(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, PG, PG, &a), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, 2 * PG, PG, &a), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 5, 0, 64 * PG, &a), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, 0, PG, NULL), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(NULL, 0, 0, PG, &a), L4MM_EINVAL);
    fx_done(&f);
}

static void test_buddy_alloc_in_returns_enomem_when_no_block_fits_window(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 16 * PG, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 16 * PG, 64 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, 0, 16 * PG, &a), L4MM_ENOMEM);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, 80 * PG, UINT64_MAX, &a), L4MM_ENOMEM);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 0, 16 * PG + 1, 17 * PG + 5, &a), L4MM_ENOMEM);
    EXPECT_ERR(&f, l4mm_buddy_alloc_in(&f.b, 2, 17 * PG, 24 * PG - 1, &a), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_alloc_in(&f.b, 2, 17 * PG, 24 * PG, &a), L4MM_OK);
    assert_int_equal(a, 20 * PG);
    assert_int_equal(l4mm_buddy_alloc_in(&f.b, 0, 16 * PG + 1, 17 * PG + 4096, &a), L4MM_OK);
    assert_int_equal(a, 17 * PG);
    fx_done(&f);
}

static void test_buddy_alloc_in_serves_below_16_mib(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 64 * MiB, 12, 10);
    assert_int_equal(l4mm_buddy_add(&f.b, 32 * MiB, 32 * MiB), L4MM_OK);
    assert_int_equal(l4mm_buddy_add(&f.b, 1 * MiB, 7 * MiB), L4MM_OK);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(l4mm_buddy_alloc_in(&f.b, 3, 0, 16 * MiB, &a), L4MM_OK);
        assert_true(a + 8 * PG <= 16 * MiB && a >= MiB);
    }
    fx_done(&f);
}

static void test_buddy_alloc_at_rejects_misaligned_or_outside_with_einval(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 8 * PG, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 8 * PG, 64 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 8 * PG + 1, 0), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 10 * PG, 2), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 0, 4), L4MM_EINVAL);       /* starts before */
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 64 * PG, 4), L4MM_EINVAL); /* ends after */
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 16 * PG, 5), L4MM_EINVAL); /* order > max */
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(NULL, 16 * PG, 0), L4MM_EINVAL);
    fx_done(&f);
}

static void test_buddy_alloc_at_of_non_free_block_returns_ebusy(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 0, 0), L4MM_EBUSY); /* reserved */
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 5 * PG, 0), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 5 * PG, 0), L4MM_EBUSY);
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 0, 3), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 8 * PG, 3), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 4 * PG, 0), L4MM_OK);
    assert_int_equal(st(&f).allocated_units, 10);
    fx_done(&f);
}

/* ---- free ---------------------------------------------------------------------------------- */

static void test_buddy_free_misaligned_wrong_order_returns_einval(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 2 * PG, 1), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 2 * PG, 2), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 2 * PG + 8, 1), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 64 * PG, 0), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 5), L4MM_EINVAL);
    EXPECT_ERR(&f, l4mm_buddy_free(NULL, 0, 0), L4MM_EINVAL);
    (void)a;
    fx_done(&f);
}

static void test_buddy_double_free_returns_enoent(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 2, &a), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 2), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, a, 2), L4MM_ENOENT);
    fx_done(&f);
}

static void test_buddy_wrong_order_free_returns_enoent(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 64 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 0, 2), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 4 * PG, 0), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 5 * PG, 0), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 1), L4MM_ENOENT);      /* inside, too small */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 3), L4MM_ENOENT);      /* too big */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 0), L4MM_ENOENT);      /* first unit only */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 4 * PG, 1), L4MM_ENOENT); /* two order-0 blocks */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 2 * PG, 1), L4MM_ENOENT); /* upper half */
    assert_int_equal(l4mm_buddy_free(&f.b, 0, 2), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, 5 * PG, 0), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, 4 * PG, 0), L4MM_OK);
    assert_int_equal(st(&f).free_blocks[4], 4);
    fx_done(&f);
}

static void test_buddy_free_of_reserved_or_free_range_returns_enoent(void **s)
{
    struct fx f;
    (void)s;
    fx_init(&f, 0, 64 * PG, 12, 4);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 4), L4MM_ENOENT); /* reserved */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 0), L4MM_ENOENT);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 32 * PG), L4MM_OK);
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 0, 4), L4MM_ENOENT); /* free */
    EXPECT_ERR(&f, l4mm_buddy_free(&f.b, 16 * PG, 3), L4MM_ENOENT);
    fx_done(&f);
}

static void test_buddy_freeing_everything_restores_post_add_metadata(void **s)
{
    struct fx f;
    uint64_t *after_add;
    l4mm_addr_t a[200];
    unsigned ord[200], n = 0;
    uint64_t seed = 7;
    (void)s;
    fx_init(&f, 0x3000, 1000 * PG, 12, 9);
    assert_int_equal(l4mm_buddy_add(&f.b, 0x3000, 500 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_add(&f.b, 0x3000 + 600 * PG, 400 * PG), L4MM_OK);
    after_add = malloc(f.msz);
    assert_non_null(after_add);
    memcpy(after_add, f.meta, f.msz);
    while (n < 200) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        ord[n] = (unsigned)(seed >> 60) % 5;
        if (l4mm_buddy_alloc(&f.b, ord[n], &a[n]) == L4MM_OK)
            n++;
        else
            break;
    }
    for (unsigned i = 1; i < n; i += 2) /* odd ones first, then the even ones */
        assert_int_equal(l4mm_buddy_free(&f.b, a[i], ord[i]), L4MM_OK);
    for (unsigned i = 0; i < n; i += 2)
        assert_int_equal(l4mm_buddy_free(&f.b, a[i], ord[i]), L4MM_OK);
    assert_int_equal(st(&f).allocated_units, 0);
    assert_memory_equal(after_add, f.meta, f.msz);
    free(after_add);
    fx_done(&f);
}

/* ---- geometry corner cases ---------------------------------------------------------------- */

static void test_buddy_io_port_instance_with_unit_shift_zero(void **s)
{
    struct fx f;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 65536, 0, 16);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 65536), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 0x3f8, 3), L4MM_OK); /* a UART's 8 ports */
    EXPECT_ERR(&f, l4mm_buddy_alloc_at(&f.b, 0x3fc, 2), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0x3f0); /* best fit: the order-3 buddy of the UART block */
    assert_int_equal(st(&f).allocated_units, 9);
    fx_done(&f);
}

static void test_buddy_range_at_top_of_64_bit_space(void **s)
{
    struct fx f;
    l4mm_addr_t a, base = UINT64_MAX - 64 * PG + 1 - PG; /* ends one page below 2^64 */
    (void)s;
    base &= ~(PG - 1);
    fx_init(&f, base, 64 * PG, 12, 40);
    assert_int_equal(l4mm_buddy_add(&f.b, base, 64 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 5, &a), L4MM_OK);
    assert_int_equal(a & (32 * PG - 1), 0);
    assert_int_equal(l4mm_buddy_take(&f.b, base, 64 * PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 5), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f.b, base, 64 * PG), L4MM_OK);
    fx_done(&f);
}

static void test_buddy_instances_share_nothing(void **s)
{
    struct fx f, g;
    l4mm_addr_t a;
    (void)s;
    fx_init(&f, 0, 16 * MiB, 12, 10);
    fx_init(&g, 16 * MiB, 16 * MiB, 12, 10);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 16 * MiB), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc(&g.b, 0, &a), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_add(&g.b, 16 * MiB, 16 * MiB), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc(&g.b, 0, &a), L4MM_OK);
    assert_true(a >= 16 * MiB);
    assert_int_equal(st(&f).free_units, 4096);
    fx_done(&f);
    fx_done(&g);
}

static void test_buddy_stats_and_unit_state_handle_null(void **s)
{
    struct l4mm_buddy_stats x;
    struct fx f;
    int state;
    (void)s;
    l4mm_buddy_stats(NULL, &x);
    assert_int_equal(x.largest_free_order, -1);
    assert_int_equal(x.free_units, 0);
    fx_init(&f, 0, 8 * PG, 12, 3);
    l4mm_buddy_stats(&f.b, NULL);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, 8 * PG, &state), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, 0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, 7 * PG + 5, &state), L4MM_OK);
    assert_int_equal(state, 0);
    fx_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_meta_size_is_below_half_a_byte_per_page),
        cmocka_unit_test(test_buddy_meta_size_rejects_malformed_geometry),
        cmocka_unit_test(test_buddy_init_rejects_bad_arguments_with_einval),
        cmocka_unit_test(test_buddy_init_leaves_every_unit_reserved),
        cmocka_unit_test(test_buddy_add_rejects_malformed_ranges_with_einval),
        cmocka_unit_test(test_buddy_add_of_non_reserved_units_returns_ebusy),
        cmocka_unit_test(test_buddy_add_coalesces_into_naturally_aligned_blocks),
        cmocka_unit_test(test_buddy_take_rejects_malformed_ranges_with_einval),
        cmocka_unit_test(test_buddy_take_of_non_free_units_returns_ebusy),
        cmocka_unit_test(test_buddy_take_of_256_mib_is_per_range),
        cmocka_unit_test(test_buddy_alloc_rejects_bad_order_and_null_with_einval),
        cmocka_unit_test(test_buddy_alloc_returns_enomem_only_when_nothing_fits),
        cmocka_unit_test(test_buddy_alloc_aligns_blocks_absolutely_with_unaligned_base),
        cmocka_unit_test(test_buddy_alloc_uses_address_zero),
        cmocka_unit_test(test_buddy_alloc_in_rejects_bad_arguments_with_einval),
        cmocka_unit_test(test_buddy_alloc_in_returns_enomem_when_no_block_fits_window),
        cmocka_unit_test(test_buddy_alloc_in_serves_below_16_mib),
        cmocka_unit_test(test_buddy_alloc_at_rejects_misaligned_or_outside_with_einval),
        cmocka_unit_test(test_buddy_alloc_at_of_non_free_block_returns_ebusy),
        cmocka_unit_test(test_buddy_free_misaligned_wrong_order_returns_einval),
        cmocka_unit_test(test_buddy_double_free_returns_enoent),
        cmocka_unit_test(test_buddy_wrong_order_free_returns_enoent),
        cmocka_unit_test(test_buddy_free_of_reserved_or_free_range_returns_enoent),
        cmocka_unit_test(test_buddy_freeing_everything_restores_post_add_metadata),
        cmocka_unit_test(test_buddy_io_port_instance_with_unit_shift_zero),
        cmocka_unit_test(test_buddy_range_at_top_of_64_bit_space),
        cmocka_unit_test(test_buddy_instances_share_nothing),
        cmocka_unit_test(test_buddy_stats_and_unit_state_handle_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
