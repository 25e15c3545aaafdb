/* Unit tests of the kpool hooks: refill requests (want_pages, refill_done/failed), excess
 * reports and reclaim, and re-entry from hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#define PS KP_TEST_PS

/* ---- refill requests -------------------------------------------------------------------- */

static void test_kpool_want_pages_when_alloc_ends_below_low_once(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 4, 10);
    fix_give(f, 6);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK); /* 5 */
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK); /* 4 */
    assert_int_equal(f->r.want_calls, 0);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK); /* 3 < low */
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(f->r.last_want, 10 - 3);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK); /* 2 */
    assert_int_equal(f->r.want_calls, 1);                                    /* outstanding */
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_true(s.refill_outstanding);
    assert_int_equal(s.refill_requests, 1);
    assert_int_equal(s.crossed_low, 1);
    /* the pager answers with one page: still below low, next alloc asks again */
    fix_give(f, 1);
    assert_int_equal(f->r.want_calls, 1); /* never from give */
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    assert_int_equal(f->r.want_calls, 1); /* never from refill_done */
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK); /* 2 */
    assert_int_equal(f->r.want_calls, 2);
    assert_int_equal(f->r.last_want, 8);
    fix_free(f);
}

static void test_kpool_want_pages_comes_after_oom_with_final_count(void **state)
{
    (void)state;
    struct fix *f = fix_new(2, 4, 8);
    fix_give(f, 2);
    fix_spares(f, 2);
    f->r.oom_answer = L4MM_OOM_RETRY;
    f->r.oom_give = 2;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(f->r.nev, 2);
    assert_int_equal(f->r.ev[0].kind, EV_OOM);
    assert_int_equal(f->r.ev[1].kind, EV_WANT);
    assert_int_equal(f->r.ev[1].arg, 8 - 3);
    assert_int_equal(f->r.ev[1].pool_pages, 3);
    fix_free(f);
}

static void test_kpool_want_pages_also_after_failed_alloc(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 2, 5);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_DEFERRABLE, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(f->r.last_want, 5);
    assert_int_equal(f->r.oom_calls, 0);
    fix_free(f);
}

static void test_kpool_refill_failed_blocks_requests_until_free_or_give(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 3, 6);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_true(s.refill_blocked);
    assert_false(s.refill_outstanding);
    for (int i = 0; i < 5; i++)
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.want_calls, 1); /* no request storm */
    fix_give(f, 2);
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(f->r.want_calls, 2);
    assert_int_equal(f->r.last_want, 5);
    /* fail again, then a free re-arms */
    assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
    void *pg2;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg2), L4MM_OK);
    assert_int_equal(f->r.want_calls, 2);
    assert_int_equal(l4mm_kpool_free(&f->p, pg2), L4MM_OK);
    assert_int_equal(f->r.want_calls, 2); /* never from free */
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg2), L4MM_OK);
    assert_int_equal(f->r.want_calls, 3);
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.refills_failed, 2);
    fix_free(f);
}

static void test_kpool_refill_answers_without_request_do_nothing(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 3, 6);
    struct l4mm_kpool_stats a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    l4mm_kpool_stats(&f->p, &a);
    assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    l4mm_kpool_stats(&f->p, &b);
    assert_memory_equal(&a, &b, sizeof a);
    /* refill_failed without a request must not block the next request */
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.want_calls, 1);
    /* answered twice: the second answer is a no-op */
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
    l4mm_kpool_stats(&f->p, &b);
    assert_false(b.refill_blocked);
    assert_int_equal(b.refills_done, 1);
    assert_int_equal(b.refills_failed, 0);
    fix_free(f);
}

static void test_kpool_no_want_pages_from_free_give_reclaim_refill(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 5, 12);
    fix_give(f, 8);
    void *pg[8];
    /* take pages with want_pages outstanding, then answer it */
    for (int i = 0; i < 6; i++)
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg[i]), L4MM_OK);
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    /* n = 2 < low, armed; none of these may send a request */
    assert_int_equal(l4mm_kpool_free(&f->p, pg[5]), L4MM_OK);
    fix_give(f, 1);
    assert_int_equal(l4mm_kpool_reclaim(&f->p, &pg[5]), L4MM_ENOMEM);
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
    assert_int_equal(f->r.want_calls, 1);
    fix_free(f);
}

static void test_kpool_want_pages_may_give_synchronously(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 2, 4);
    fix_spares(f, 4);
    f->r.want_give = 4;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(f->r.want_calls, 1);
    assert_int_equal(npages(&f->p), 4);
    assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    fix_free(f);
}

/* ---- excess and reclaim ----------------------------------------------------------------- */

static void test_kpool_excess_pages_once_per_crossing_of_high(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 1, 3);
    fix_give(f, 3);
    assert_int_equal(f->r.excess_calls, 0);
    fix_give(f, 1); /* 4 > high */
    assert_int_equal(f->r.excess_calls, 1);
    assert_int_equal(f->r.last_excess, 1);
    fix_give(f, 2); /* 6: no new call */
    assert_int_equal(f->r.excess_calls, 1);
    void *pg[3];
    for (int i = 0; i < 2; i++)
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg[i]), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, pg[1]), L4MM_OK); /* 5: still above, never at high */
    assert_int_equal(f->r.excess_calls, 1);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg[1]), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg[2]), L4MM_OK); /* 3 = high */
    assert_int_equal(l4mm_kpool_free(&f->p, pg[2]), L4MM_OK);                   /* 4 */
    assert_int_equal(f->r.excess_calls, 2);
    assert_int_equal(f->r.last_excess, 1);
    /* reclaim brings it to high, a give crosses again */
    assert_int_equal(l4mm_kpool_reclaim(&f->p, &pg[2]), L4MM_OK); /* 3 */
    assert_int_equal(l4mm_kpool_give(&f->p, pg[2]), L4MM_OK);     /* 4 */
    assert_int_equal(f->r.excess_calls, 3);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.excess_reports, 3);
    assert_int_equal(s.crossed_high, 3);
    assert_int_equal(f->r.want_calls, 0);
    fix_free(f);
}

static void test_kpool_reclaim_only_while_above_low(void **state)
{
    (void)state;
    struct fix *f = fix_new(1, 3, 5);
    fix_give(f, 5);
    void *pg, *a, *b;
    assert_int_equal(l4mm_kpool_reclaim(&f->p, &a), L4MM_OK);
    assert_int_equal(l4mm_kpool_reclaim(&f->p, &b), L4MM_OK);
    assert_ptr_not_equal(a, b);
    pg = NULL;
    assert_int_equal(l4mm_kpool_reclaim(&f->p, &pg), L4MM_ENOMEM);
    assert_null(pg);
    assert_int_equal(npages(&f->p), 3);
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&f->p, &s);
    assert_int_equal(s.reclaimed, 2);
    assert_int_equal(s.lowest, 3);
    assert_int_equal(f->r.want_calls + f->r.oom_calls, 0);
    fix_free(f);
}

/* ---- hooks and re-entry ----------------------------------------------------------------- */

static void test_kpool_hooks_may_only_give_other_calls_are_ebusy(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++) {
        struct fix *f = fix_new(1, 3, 4);
        fix_give(f, 4);
        void *pg;
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &f->r.probe_page), L4MM_OK);
        fix_spares(f, 8);
        if (which == 0) { /* oom */
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
            f->r.oom_answer = L4MM_OOM_RETRY;
            f->r.oom_give = 1;
            f->r.probe = 1;
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
            assert_true(f->r.oom_calls >= 1);
        } else if (which == 1) { /* want_pages */
            f->r.probe = 1;
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
            assert_int_equal(f->r.want_calls, 1);
        } else { /* excess_pages */
            fix_give(f, 1);
            f->r.probe = 1;
            assert_int_equal(l4mm_kpool_free(&f->p, f->r.probe_page), L4MM_OK);
            f->r.probe_page = arena_page(&f->a, 0);
            assert_int_equal(f->r.excess_calls, 1);
        }
        assert_int_equal(f->r.probe, 0);
        assert_int_equal(f->r.probe_alloc, L4MM_EBUSY);
        assert_int_equal(f->r.probe_einval, L4MM_EINVAL);
        assert_int_equal(f->r.probe_free, L4MM_EBUSY);
        assert_int_equal(f->r.probe_reclaim, L4MM_EBUSY);
        assert_int_equal(f->r.probe_done, L4MM_EBUSY);
        assert_int_equal(f->r.probe_failed, L4MM_EBUSY);
        assert_int_equal(f->r.probe_give, L4MM_OK);
        /* outside hooks everything works again */
        assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK);
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_OK);
        assert_int_equal(l4mm_kpool_free(&f->p, pg), L4MM_OK);
        fix_free(f);
    }
}

static void test_kpool_give_inside_oom_above_high_reports_excess(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 2);
    fix_spares(f, 4);
    f->r.oom_answer = L4MM_OOM_RETRY;
    f->r.oom_give = 4;
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(f->r.oom_calls, 1);
    assert_int_equal(f->r.excess_calls, 1);
    assert_int_equal(npages(&f->p), 3);
    fix_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpool_want_pages_when_alloc_ends_below_low_once),
        cmocka_unit_test(test_kpool_want_pages_comes_after_oom_with_final_count),
        cmocka_unit_test(test_kpool_want_pages_also_after_failed_alloc),
        cmocka_unit_test(test_kpool_refill_failed_blocks_requests_until_free_or_give),
        cmocka_unit_test(test_kpool_refill_answers_without_request_do_nothing),
        cmocka_unit_test(test_kpool_no_want_pages_from_free_give_reclaim_refill),
        cmocka_unit_test(test_kpool_want_pages_may_give_synchronously),
        cmocka_unit_test(test_kpool_excess_pages_once_per_crossing_of_high),
        cmocka_unit_test(test_kpool_reclaim_only_while_above_low),
        cmocka_unit_test(test_kpool_hooks_may_only_give_other_calls_are_ebusy),
        cmocka_unit_test(test_kpool_give_inside_oom_above_high_reports_excess),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
