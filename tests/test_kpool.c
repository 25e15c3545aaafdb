/* Unit tests of the kpool contract: init, classes, the OOM hook, page validation, stats, the
 * checker and the inline fast paths (hooks: test_kpool_hooks.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#define PS KP_TEST_PS

/* L4MM_KPOOL_OOM_RETRIES must be usable in constant expressions. */
typedef char retries_array[L4MM_KPOOL_OOM_RETRIES];
_Static_assert(L4MM_KPOOL_OOM_RETRIES >= 1, "at least one attempt");

/* ---- init ------------------------------------------------------------------------------- */

static void test_kpool_init_rejects_bad_config_and_writes_nothing(void **state)
{
    (void)state;
    struct l4mm_kpool p;
    unsigned char ref[sizeof p];
    memset(&p, 0x5c, sizeof p);
    memcpy(ref, &p, sizeof p);
    const struct l4mm_kpool_config bad[] = {
        { 0, 0, 0, 0 },        { 32, 0, 0, 0 },   { 63, 0, 0, 0 },   { 96, 0, 0, 0 },
        { 4095, 0, 1, 2 },     { 4096, 3, 2, 4 }, { 4096, 1, 5, 4 }, { 4096, 5, 5, 4 },
        { 1u << 12, 2, 1, 1 }, { 65, 0, 0, 0 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(l4mm_kpool_init(&p, &bad[i], NULL), L4MM_EINVAL);
        assert_memory_equal(&p, ref, sizeof p);
    }
    const struct l4mm_kpool_config ok = { 64, 0, 0, 0 };
    assert_int_equal(l4mm_kpool_init(NULL, &ok, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_init(&p, NULL, NULL), L4MM_EINVAL);
    assert_memory_equal(&p, ref, sizeof p);
    assert_int_equal(l4mm_kpool_init(&p, &ok, NULL), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&p), L4MM_OK);
    assert_int_equal(npages(&p), 0);
}

static void test_kpool_init_accepts_equal_watermarks_and_null_hooks(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64, 8);
    struct l4mm_kpool p;
    const struct l4mm_kpool_config cfg = { 64, 3, 3, 3 };
    struct l4mm_kpool_ops ops = { NULL, NULL, NULL, NULL };
    assert_int_equal(l4mm_kpool_init(&p, &cfg, &ops), L4MM_OK);
    void *pg;
    /* empty pool, NULL oom: FAIL; NULL want_pages: nothing sent */
    assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_CRITICAL, &pg), L4MM_ENOMEM);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(l4mm_kpool_give(&p, arena_page(&a, i)), L4MM_OK);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&p, &s);
    assert_int_equal(s.refill_requests, 0);
    assert_false(s.refill_outstanding);
    assert_int_equal(s.excess_reports, 0);
    assert_int_equal(s.crossed_high, 1); /* counted even without a hook */
    assert_int_equal(l4mm_kpool_check(&p), L4MM_OK);
    arena_fini(&a);
}

static void test_kpool_page_size_64_works(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 64, 4);
    struct l4mm_kpool p;
    const struct l4mm_kpool_config cfg = { 64, 0, 0, 10 };
    assert_int_equal(l4mm_kpool_init(&p, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(l4mm_kpool_give(&p, arena_page(&a, i)), L4MM_OK);
    void *pg[4];
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &pg[i]), L4MM_OK);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < i; j++)
            assert_ptr_not_equal(pg[i], pg[j]);
    assert_int_equal(l4mm_kpool_check(&p), L4MM_OK);
    arena_fini(&a);
}

/* ---- classes ---------------------------------------------------------------------------- */

static void test_kpool_normal_and_deferrable_never_take_reserve(void **state)
{
    (void)state;
    struct fix *f = fix_new(2, 2, 10);
    fix_give(f, 5);
    void *pg;
    for (int i = 0; i < 3; i++)
        assert_int_equal(l4mm_kpool_alloc(&f->p, i == 1 ? L4MM_KP_DEFERRABLE : L4MM_KP_NORMAL, &pg),
                         L4MM_OK);
    assert_int_equal(npages(&f->p), 2);
    void *before = pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_DEFERRABLE, &pg), L4MM_ENOMEM);
    assert_ptr_equal(pg, before); /* out-parameter untouched on failure */
    assert_int_equal(npages(&f->p), 2);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(npages(&f->p), 0);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_ENOMEM);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.failures[L4MM_KP_NORMAL], 1);
    assert_int_equal(s.failures[L4MM_KP_DEFERRABLE], 1);
    assert_int_equal(s.failures[L4MM_KP_CRITICAL], 1);
    assert_int_equal(s.lowest, 0);
    fix_free(f);
}

static void test_kpool_alloc_rejects_bad_arguments_without_hooks_or_change(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 4, 8);
    f->r.oom_answer = L4MM_OOM_RETRY;
    void *pg = NULL;
    assert_int_equal(l4mm_kpool_alloc(NULL, L4MM_KP_NORMAL, &pg), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_alloc(&f->p, (enum l4mm_kpool_class)3, &pg), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_alloc(&f->p, (enum l4mm_kpool_class) - 1, &pg), L4MM_EINVAL);
    assert_null(pg);
    assert_int_equal(f->r.want_calls + f->r.oom_calls + f->r.excess_calls, 0);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.failures[0] + s.failures[1] + s.failures[2], 0);
    assert_int_equal(l4mm_kpool_reclaim(NULL, &pg), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_reclaim(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_refill_done(NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_refill_failed(NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_check(NULL), L4MM_EINVAL);
    l4mm_kpool_stats(NULL, &s);
    l4mm_kpool_stats(&f->p, NULL);
    fix_free(f);
}

/* ---- OOM hook --------------------------------------------------------------------------- */

static void test_kpool_oom_retry_without_pages_gives_up_after_retries(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 1, 4);
    fix_give(f, 1);
    f->r.oom_answer = L4MM_OOM_RETRY;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.oom_calls, L4MM_KPOOL_OOM_RETRIES);
    for (size_t i = 0; i < L4MM_KPOOL_OOM_RETRIES; i++) {
        assert_int_equal(f->r.ev[i].kind, EV_OOM);
        assert_int_equal(f->r.ev[i].arg, i);
        assert_int_equal(f->r.ev[i].cls, L4MM_KP_NORMAL);
    }
    assert_int_equal(sizeof(retries_array), L4MM_KPOOL_OOM_RETRIES);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.oom_calls, L4MM_KPOOL_OOM_RETRIES);
    assert_int_equal(s.failures[L4MM_KP_NORMAL], 1);
    fix_free(f);
}

static void test_kpool_oom_fail_fails_after_one_call(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 4);
    f->r.oom_answer = L4MM_OOM_FAIL;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.oom_calls, 1);
    assert_int_equal(f->r.ev[0].cls, L4MM_KP_CRITICAL);
    assert_int_equal(f->r.ev[0].arg, 0);
    fix_free(f);
}

static enum l4mm_oom_action bogus_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    (void)cls;
    (void)attempt;
    (*(size_t *)ctx)++;
    return (enum l4mm_oom_action)7;
}

static void test_kpool_oom_unknown_answer_counts_as_fail(void **state)
{
    (void)state;
    struct l4mm_kpool p;
    size_t calls = 0;
    const struct l4mm_kpool_config cfg = { 64, 0, 0, 0 };
    const struct l4mm_kpool_ops ops = { NULL, NULL, bogus_oom, &calls };
    assert_int_equal(l4mm_kpool_init(&p, &cfg, &ops), L4MM_OK);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(calls, 1);
    assert_int_equal(l4mm_kpool_check(&p), L4MM_OK);
}

static void test_kpool_oom_hook_gives_page_and_retry_succeeds(void **state)
{
    (void)state;
    struct fix *f = fix_new(2, 2, 6);
    fix_give(f, 2);
    fix_spares(f, 1);
    f->r.oom_answer = L4MM_OOM_RETRY;
    f->r.oom_give = 1;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_ptr_equal(pg, f->spare[0]);
    assert_int_equal(f->r.oom_calls, 1);
    assert_int_equal(npages(&f->p), 2);
    fix_free(f);
}

static void test_kpool_oom_is_called_again_until_enough_pages(void **state)
{
    (void)state;
    struct fix *f = fix_new(2, 2, 6);
    fix_spares(f, 3);
    f->r.oom_answer = L4MM_OOM_RETRY;
    f->r.oom_give = 1;
    void *pg;
    /* empty pool, NORMAL needs n > 2: three attempts, each giving one page */
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(f->r.oom_calls, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(f->r.ev[i].arg, i);
    assert_int_equal(npages(&f->p), 2);
    fix_free(f);
}

static void test_kpool_failed_alloc_keeps_pages_given_by_hook(void **state)
{
    (void)state;
    struct fix *f = fix_new(3, 3, 6);
    fix_spares(f, 2);
    f->r.oom_answer = L4MM_OOM_FAIL;
    f->r.oom_give = 2;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(npages(&f->p), 2);
    assert_int_equal(f->r.oom_calls, 1);
    fix_free(f);
}

static void test_kpool_deferrable_never_calls_oom(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 1, 4);
    fix_give(f, 1);
    fix_spares(f, 4);
    f->r.oom_answer = L4MM_OOM_RETRY;
    f->r.oom_give = 1;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_DEFERRABLE, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.oom_calls, 0);
    assert_int_equal(npages(&f->p), 1);
    fix_free(f);
}

static void test_kpool_null_oom_means_fail(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 1, 4);
    f->ops.oom = NULL;
    const struct l4mm_kpool_config cfg = { PS, 1, 1, 4 };
    assert_int_equal(l4mm_kpool_init(&f->p, &cfg, &f->ops), L4MM_OK);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.oom_calls, 0);
    fix_free(f);
}

/* ---- validation of pages ---------------------------------------------------------------- */

static void test_kpool_give_and_free_reject_misaligned_pages(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 8);
    unsigned char *pg = arena_page(&f->a, 0);
    assert_int_equal(l4mm_kpool_give(&f->p, pg + 64), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_give(&f->p, pg + 1), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_give(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_give(NULL, pg), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free(&f->p, pg + 128), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free(NULL, pg), L4MM_EINVAL);
    assert_int_equal(npages(&f->p), 0);
    fix_free(f);
}

static void test_kpool_free_of_just_freed_page_returns_enoent(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 8);
    fix_give(f, 3);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, pg), L4MM_ENOENT);
    assert_int_equal(l4mm_kpool_give(&f->p, pg), L4MM_ENOENT);
    assert_int_equal(npages(&f->p), 3);
    fix_free(f);
}

#ifdef L4MM_HARDEN
static void test_kpool_harden_detects_double_free_foreign_and_reuse(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 8);
    fix_give(f, 4);
    void *a, *b;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &a), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &b), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, a), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, b), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, a), L4MM_ENOENT); /* not the head */
    assert_int_equal(l4mm_kpool_give(&f->p, a), L4MM_ENOENT);
    /* a foreign page: beyond every page given */
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &a), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, arena_page(&f->a, 100)), L4MM_ENOENT);
    assert_int_equal(l4mm_kpool_free(&f->p, a), L4MM_OK);
    /* no page outstanding: any free is refused */
    assert_int_equal(l4mm_kpool_free(&f->p, arena_page(&f->a, 1)), L4MM_ENOENT);
    assert_int_equal(npages(&f->p), 4);
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
    /* use after free overwrites the head's tag: alloc refuses, nothing changes */
    void **head = f->p.head;
    void *saved = head[1];
    head[1] = (void *)(uintptr_t)0x1234;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &a), L4MM_ECORRUPT);
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
    head[1] = saved;
    assert_int_equal(npages(&f->p), 4);
    fix_free(f);
}
#endif

/* ---- stats ------------------------------------------------------------------------------ */

static void test_kpool_stats_track_lowest_and_crossings(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 3, 6);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.pages, 0);
    assert_int_equal(s.lowest, SIZE_MAX);
    assert_int_equal(s.page_size, PS);
    assert_int_equal(s.reserve, 1);
    assert_int_equal(s.low, 3);
    assert_int_equal(s.high, 6);
    fix_give(f, 6);
    void *pg[6];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 5; i++)
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg[i]), L4MM_OK);
        assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
        for (int i = 0; i < 5; i++)
            assert_int_equal(l4mm_kpool_free(&f->p, pg[i]), L4MM_OK);
    }
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.pages, 6);
    assert_int_equal(s.lowest, 1);
    assert_int_equal(s.crossed_low, 2);
    assert_int_equal(s.refill_requests, 2);
    assert_int_equal(s.refills_done, 2);
    assert_int_equal(s.gives, 6);
    assert_int_equal(s.crossed_high, 0);
    fix_free(f);
}

/* ---- checker ---------------------------------------------------------------------------- */

static void test_kpool_check_detects_corruption(void **state)
{
    (void)state;
    for (int kind = 0; kind < 10; kind++) {
        struct fix *f = fix_new(1, 2, 8);
        fix_give(f, 5);
        void *pg;
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
        struct l4mm_kpool saved = f->p;
        void **head = f->p.head;
        void *link = head[0];
        void **last = head;
        while (last[0] != NULL)
            last = last[0];
        switch (kind) {
        case 0: f->p.n++; break;
        case 1: f->p.n--; break;
        case 2: head[0] = (char *)link + 8; break; /* misaligned link */
        case 3: last[0] = head; break;             /* cycle */
        case 4: f->p.low = f->p.high + 1; break;   /* watermark order */
        case 5: f->p.flags = 0x80; break;          /* unknown flag */
        case 6: f->p.limit[1] = 0; break;          /* NORMAL could take the reserve */
        case 7: f->p.magic ^= 1; break;
        case 8: f->p.free_mark++; break;
        case 9: f->p.mask = 0; break;
        }
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
        head[0] = link;
        last[0] = NULL;
        f->p = saved;
        fix_free(f);
    }
}

/* The inline fast paths return exactly what the functions return, with the same effects. */
static void test_kpool_inline_fast_paths_match_functions(void **state)
{
    (void)state;
    struct fix *a = fix_new(2, 5, 9), *b = fix_new(2, 5, 9);
    void *held_a[64], *held_b[64];
    size_t na = 0, nb = 0;
    uint64_t x = 0x243f6a8885a308d3ULL;
    for (int op = 0; op < 20000; op++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned r = (unsigned)(x % 16);
        if (r < 6) {
            enum l4mm_kpool_class cls = (enum l4mm_kpool_class)(x / 16 % 4);
            void *pa = NULL, *pb = NULL;
            l4mm_status sa = l4mm_kpool_alloc(&a->p, cls, &pa);
            l4mm_status sb = l4mm_kpool_alloc_fast(&b->p, cls, &pb);
            assert_int_equal(sa, sb);
            if (sa == L4MM_OK) {
                assert_int_equal(arena_index(&a->a, pa), arena_index(&b->a, pb));
                held_a[na++] = pa;
                held_b[nb++] = pb;
            }
        } else if (r < 12 && na > 0) {
            size_t k = (size_t)(x / 16 % na);
            assert_int_equal(l4mm_kpool_free(&a->p, held_a[k]), L4MM_OK);
            assert_int_equal(l4mm_kpool_free_fast(&b->p, held_b[k]), L4MM_OK);
            /* the same page again: both refuse it */
            assert_int_equal(l4mm_kpool_free(&a->p, held_a[k]), L4MM_ENOENT);
            assert_int_equal(l4mm_kpool_free_fast(&b->p, held_b[k]), L4MM_ENOENT);
            held_a[k] = held_a[--na];
            held_b[k] = held_b[--nb];
        } else if (r == 12 && a->next < 150) {
            fix_give(a, 1);
            fix_give(b, 1);
        } else if (r == 13) {
            assert_int_equal(l4mm_kpool_refill_done(&a->p), l4mm_kpool_refill_done(&b->p));
        } else if (r == 14) {
            assert_int_equal(l4mm_kpool_refill_failed(&a->p), l4mm_kpool_refill_failed(&b->p));
        } else {
            unsigned char *pg = arena_page(&a->a, 0);
            assert_int_equal(l4mm_kpool_free_fast(&b->p, pg + 64), L4MM_EINVAL);
            assert_int_equal(l4mm_kpool_free_fast(&b->p, NULL), L4MM_EINVAL);
            assert_int_equal(l4mm_kpool_alloc_fast(&b->p, L4MM_KP_NORMAL, NULL), L4MM_EINVAL);
        }
        struct l4mm_kpool_stats sa, sb;
        memset(&sa, 0, sizeof sa);
        memset(&sb, 0, sizeof sb);
        l4mm_kpool_stats(&a->p, &sa);
        l4mm_kpool_stats(&b->p, &sb);
        assert_memory_equal(&sa, &sb, sizeof sa);
        assert_int_equal(a->r.want_calls, b->r.want_calls);
        assert_int_equal(a->r.excess_calls, b->r.excess_calls);
        assert_int_equal(a->r.oom_calls, b->r.oom_calls);
        assert_int_equal(l4mm_kpool_check(&b->p), L4MM_OK);
    }
    assert_true(a->r.want_calls > 0 && a->r.excess_calls > 0);
    fix_free(a);
    fix_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpool_init_rejects_bad_config_and_writes_nothing),
        cmocka_unit_test(test_kpool_init_accepts_equal_watermarks_and_null_hooks),
        cmocka_unit_test(test_kpool_page_size_64_works),
        cmocka_unit_test(test_kpool_normal_and_deferrable_never_take_reserve),
        cmocka_unit_test(test_kpool_alloc_rejects_bad_arguments_without_hooks_or_change),
        cmocka_unit_test(test_kpool_oom_retry_without_pages_gives_up_after_retries),
        cmocka_unit_test(test_kpool_oom_fail_fails_after_one_call),
        cmocka_unit_test(test_kpool_oom_unknown_answer_counts_as_fail),
        cmocka_unit_test(test_kpool_oom_hook_gives_page_and_retry_succeeds),
        cmocka_unit_test(test_kpool_oom_is_called_again_until_enough_pages),
        cmocka_unit_test(test_kpool_failed_alloc_keeps_pages_given_by_hook),
        cmocka_unit_test(test_kpool_deferrable_never_calls_oom),
        cmocka_unit_test(test_kpool_null_oom_means_fail),
        cmocka_unit_test(test_kpool_give_and_free_reject_misaligned_pages),
        cmocka_unit_test(test_kpool_free_of_just_freed_page_returns_enoent),
#ifdef L4MM_HARDEN
        cmocka_unit_test(test_kpool_harden_detects_double_free_foreign_and_reuse),
#endif
        cmocka_unit_test(test_kpool_stats_track_lowest_and_crossings),
        cmocka_unit_test(test_kpool_check_detects_corruption),
        cmocka_unit_test(test_kpool_inline_fast_paths_match_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
