/*
 * Adversarial randomized test of kpool + OOM chain + kcache: >= 10^6 random operations with
 * random classes, random pager answers (pages, failure, silence, synchronous gives), and
 * OOM steps that move pages from a fallback pool, shrink a cache, kill tasks or decline.
 * After every operation both pools and the cache pass their checkers, and:
 *  - a CRITICAL allocation never fails while the pool holds a page or the chain can supply
 *    one;
 *  - NORMAL/DEFERRABLE never leave fewer than `reserve` pages;
 *  - no page (or object) is handed out twice;
 *  - at the end every page is accounted for exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#define PS       256u
#define NPAGES   600u
#define NTASKS   6u
#define SLOTS    (PS / 8u)
#define MAXOBJS  400u
#define OPS_MAIN 1000000u

enum owner { O_PAGER, O_POOLED, O_KERNEL, O_TASK0 };

struct sim {
    struct arena a;
    struct l4mm_kpool main, dma;
    struct l4mm_oom_chain chain;
    struct l4mm_kcache cache;
    uint64_t rng;
    unsigned own[NPAGES];
    unsigned objcnt[NPAGES];
    unsigned char objlive[NPAGES * SLOTS];
    void *objs[MAXOBJS];
    size_t nobjs;
    size_t reserve, low, high;
    /* pager side */
    size_t pager_stack[NPAGES];
    size_t npager;
    bool outstanding;
    size_t want_calls, excess_calls;
    /* adversarial knobs for the current operation */
    bool kill_declines;
    size_t want_sync_give;
    size_t kills;
    void *last_freed;
    size_t tcount[NTASKS]; /* pages held per task */
    size_t held[NPAGES];   /* pages held by the kernel or a task, any order */
    size_t hpos[NPAGES];   /* position of a held page in held[] */
    size_t nheld;
};

static bool is_held(unsigned o)
{
    return o == O_KERNEL || o >= O_TASK0;
}

/* Every ownership change goes through here so the per-task counts stay right. */
static void set_own(struct sim *s, size_t i, unsigned o)
{
    if (s->own[i] >= O_TASK0)
        s->tcount[s->own[i] - O_TASK0]--;
    if (is_held(s->own[i]) && !is_held(o)) {
        size_t last = s->held[--s->nheld];
        s->held[s->hpos[i]] = last;
        s->hpos[last] = s->hpos[i];
    } else if (!is_held(s->own[i]) && is_held(o)) {
        s->hpos[i] = s->nheld;
        s->held[s->nheld++] = i;
    }
    s->own[i] = o;
    if (o >= O_TASK0)
        s->tcount[o - O_TASK0]++;
}

static uint64_t rnd(struct sim *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t rndn(struct sim *s, size_t n)
{
    return n == 0 ? 0 : (size_t)(rnd(s) % n);
}

static size_t pidx(const struct sim *s, const void *p)
{
    return arena_index(&s->a, p);
}

static size_t npool(const struct l4mm_kpool *p)
{
    struct l4mm_kpool_stats st;
    l4mm_kpool_stats(p, &st);
    return st.pages;
}

static void *pager_take(struct sim *s)
{
    assert_true(s->npager > 0);
    size_t i = s->pager_stack[--s->npager];
    assert_int_equal(s->own[i], O_PAGER);
    set_own(s, i, O_POOLED);
    return arena_page(&s->a, i);
}

static void pager_put(struct sim *s, void *pg)
{
    size_t i = pidx(s, pg);
    assert_int_equal(s->own[i], O_POOLED);
    assert_int_equal(s->objcnt[i], 0);
    set_own(s, i, O_PAGER);
    s->pager_stack[s->npager++] = i;
}

/* ---- hooks -------------------------------------------------------------------------- */

static void h_want(void *ctx, size_t npages)
{
    struct sim *s = ctx;
    assert_false(s->outstanding);
    s->outstanding = true;
    s->want_calls++;
    assert_true(npages >= 1 && npages <= s->high);
    for (size_t i = 0; i < s->want_sync_give && s->npager > 0; i++)
        assert_int_equal(l4mm_kpool_give(&s->main, pager_take(s)), L4MM_OK);
}

static void h_excess(void *ctx, size_t npages)
{
    struct sim *s = ctx;
    assert_int_equal(npages, 1);
    s->excess_calls++;
}

/* The pool has one ctx for all hooks: the oom hook forwards to the chain. */
static enum l4mm_oom_action h_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    struct sim *s = ctx;
    return l4mm_oom_chain_hook(&s->chain, cls, attempt);
}

static void cb_reclaim(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls,
                       size_t attempt)
{
    (void)cls;
    (void)attempt;
    struct sim *s = ctx;
    assert_ptr_equal(pool, &s->main);
    assert_int_equal(l4mm_kcache_shrink(&s->cache), L4MM_OK);
}

static size_t task_pages(const struct sim *s, unsigned t)
{
    return s->tcount[t];
}

static void cb_kill(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls, size_t attempt)
{
    (void)cls;
    (void)attempt;
    struct sim *s = ctx;
    if (s->kill_declines)
        return;
    unsigned start = (unsigned)rndn(s, NTASKS);
    for (unsigned k = 0; k < NTASKS; k++) {
        unsigned t = (start + k) % NTASKS;
        if (task_pages(s, t) == 0)
            continue;
        for (size_t i = 0; i < NPAGES; i++) {
            if (s->own[i] != O_TASK0 + t)
                continue;
            set_own(s, i, O_POOLED);
            assert_int_equal(l4mm_kpool_give(pool, arena_page(&s->a, i)), L4MM_OK);
        }
        s->kills++;
        return;
    }
}

/* ---- setup -------------------------------------------------------------------------- */

static void sim_init(struct sim *s, uint64_t seed, size_t reserve, size_t low, size_t high,
                     size_t obj_size)
{
    memset(s, 0, sizeof *s);
    s->rng = seed;
    s->reserve = reserve;
    s->low = low;
    s->high = high;
    arena_init(&s->a, PS, NPAGES);
    for (size_t i = 0; i < NPAGES; i++) {
        s->own[i] = O_PAGER;
        s->pager_stack[s->npager++] = NPAGES - 1 - i;
    }
    const struct l4mm_kpool_config mc = { PS, reserve, low, high };
    const struct l4mm_kpool_ops mo = { h_want, h_excess, h_oom, s };
    assert_int_equal(l4mm_kpool_init(&s->main, &mc, &mo), L4MM_OK);
    const struct l4mm_kpool_config dc = { PS, 2, 4, 16 };
    assert_int_equal(l4mm_kpool_init(&s->dma, &dc, NULL), L4MM_OK);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(l4mm_kpool_give(&s->dma, pager_take(s)), L4MM_OK);
    for (size_t i = 0; i < high; i++)
        assert_int_equal(l4mm_kpool_give(&s->main, pager_take(s)), L4MM_OK);
    struct l4mm_oom_chain_config cc;
    memset(&cc, 0, sizeof cc);
    cc.pool = &s->main;
    cc.steps[0].kind = L4MM_OOM_STEP_FALLBACK;
    cc.steps[1].kind = L4MM_OOM_STEP_RECLAIM;
    cc.steps[2].kind = L4MM_OOM_STEP_KILL;
    cc.nsteps = 3;
    cc.fallback = &s->dma;
    cc.fallback_class = L4MM_KP_NORMAL;
    cc.fallback_batch = 2;
    cc.reclaim = cb_reclaim;
    cc.reclaim_ctx = s;
    cc.kill = cb_kill;
    cc.kill_ctx = s;
    assert_int_equal(l4mm_oom_chain_init(&s->chain, &cc), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&s->cache, &s->main, obj_size, L4MM_KP_NORMAL), L4MM_OK);
}

/* Both pools after every op; the cache (the expensive check) after every op that can touch
 * it: cache ops and allocations (whose OOM chain may shrink it). */
static void sim_check_pools(struct sim *s)
{
    assert_int_equal(l4mm_kpool_check(&s->main), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&s->dma), L4MM_OK);
}

static void sim_check(struct sim *s)
{
    sim_check_pools(s);
    assert_int_equal(l4mm_kcache_check(&s->cache), L4MM_OK);
}

/* ---- operations --------------------------------------------------------------------- */

static bool chain_can_supply(struct sim *s)
{
    struct l4mm_kcache_stats cs;
    l4mm_kcache_stats(&s->cache, &cs);
    if (npool(&s->dma) > 2 /* dma reserve: NORMAL fallback class */)
        return true;
    if (cs.empty_pages > 0)
        return true;
    if (!s->kill_declines)
        for (unsigned t = 0; t < NTASKS; t++)
            if (task_pages(s, t) > 0)
                return true;
    return false;
}

static void op_alloc(struct sim *s)
{
    enum l4mm_kpool_class cls = (enum l4mm_kpool_class)rndn(s, 3);
    size_t n0 = npool(&s->main);
    bool supply = n0 > 0 || chain_can_supply(s);
    struct l4mm_oom_chain_stats c0, c1;
    l4mm_oom_chain_stats(&s->chain, &c0);
    void *pg = NULL;
    l4mm_status st = l4mm_kpool_alloc(&s->main, cls, &pg);
    l4mm_oom_chain_stats(&s->chain, &c1);
    if (cls == L4MM_KP_CRITICAL && supply)
        assert_int_equal(st, L4MM_OK);
    if (cls == L4MM_KP_DEFERRABLE) {
        assert_int_equal(c1.calls, c0.calls);
        assert_int_equal(st, n0 > s->reserve ? L4MM_OK : L4MM_ENOMEM);
    }
    if (st != L4MM_OK) {
        assert_int_equal(st, L4MM_ENOMEM);
        assert_null(pg);
        return;
    }
    if (cls != L4MM_KP_CRITICAL)
        assert_true(npool(&s->main) >= s->reserve);
    size_t i = pidx(s, pg);
    assert_int_equal(s->own[i], O_POOLED); /* never handed out twice */
    assert_int_equal(s->objcnt[i], 0);
    set_own(s, i, rndn(s, 2) ? O_KERNEL : O_TASK0 + (unsigned)rndn(s, NTASKS));
    memset(pg, 0x5a, PS); /* the kernel uses all of it */
}

static void op_free(struct sim *s)
{
    if (s->nheld == 0)
        return;
    size_t i = s->held[rndn(s, s->nheld)];
    void *pg = arena_page(&s->a, i);
    set_own(s, i, O_POOLED);
    assert_int_equal(l4mm_kpool_free(&s->main, pg), L4MM_OK);
    s->last_freed = pg;
}

static void op_bad(struct sim *s)
{
    unsigned char *pg = arena_page(&s->a, rndn(s, NPAGES));
    size_t n0 = npool(&s->main);
    assert_int_equal(l4mm_kpool_free(&s->main, pg + 8 * (1 + rndn(s, SLOTS - 1))), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_give(&s->main, NULL), L4MM_EINVAL);
    if (s->last_freed != NULL && s->main.head == s->last_freed)
        assert_int_equal(l4mm_kpool_free(&s->main, s->last_freed), L4MM_ENOENT);
    assert_int_equal(npool(&s->main), n0);
}

static void op_pager(struct sim *s)
{
    size_t r = rndn(s, 8);
    if (r < 3 && s->outstanding) {
        /* answer with pages */
        size_t k = rndn(s, s->high + 1);
        for (size_t i = 0; i < k && s->npager > 0; i++)
            assert_int_equal(l4mm_kpool_give(&s->main, pager_take(s)), L4MM_OK);
        assert_int_equal(l4mm_kpool_refill_done(&s->main), L4MM_OK);
        s->outstanding = false;
    } else if (r < 5 && s->outstanding) {
        assert_int_equal(l4mm_kpool_refill_failed(&s->main), L4MM_OK);
        s->outstanding = false;
    } else if (r == 5) {
        /* answers without request: no-ops */
        if (!s->outstanding) {
            assert_int_equal(l4mm_kpool_refill_failed(&s->main), L4MM_OK);
            assert_int_equal(l4mm_kpool_refill_done(&s->main), L4MM_OK);
        }
    } else if (r == 6 && s->npager > 0 && npool(&s->main) < 2 * s->high) {
        assert_int_equal(l4mm_kpool_give(&s->main, pager_take(s)), L4MM_OK);
    } else if (r == 7 && s->npager > 0 && npool(&s->dma) < 16) {
        assert_int_equal(l4mm_kpool_give(&s->dma, pager_take(s)), L4MM_OK);
    }
}

static void op_reclaim(struct sim *s)
{
    struct l4mm_kpool *p = rndn(s, 4) == 0 ? &s->dma : &s->main;
    struct l4mm_kpool_stats st;
    l4mm_kpool_stats(p, &st);
    void *pg = NULL;
    l4mm_status r = l4mm_kpool_reclaim(p, &pg);
    assert_int_equal(r, st.pages > st.low ? L4MM_OK : L4MM_ENOMEM);
    if (r == L4MM_OK)
        pager_put(s, pg);
}

static void op_cache_alloc(struct sim *s)
{
    if (s->nobjs == MAXOBJS)
        return;
    void *o = NULL;
    l4mm_status st = l4mm_kcache_alloc(&s->cache, &o);
    if (st != L4MM_OK) {
        assert_int_equal(st, L4MM_ENOMEM);
        return;
    }
    size_t i = pidx(s, (void *)((uintptr_t)o & ~(uintptr_t)(PS - 1)));
    size_t slot = ((uintptr_t)o & (PS - 1)) / 8;
    assert_int_equal(s->own[i], O_POOLED);
    assert_int_equal(s->objlive[i * SLOTS + slot], 0); /* never handed out twice */
    s->objlive[i * SLOTS + slot] = 1;
    s->objcnt[i]++;
    s->objs[s->nobjs++] = o;
}

static void op_cache_free(struct sim *s)
{
    if (s->nobjs == 0)
        return;
    size_t k = rndn(s, s->nobjs);
    void *o = s->objs[k];
    s->objs[k] = s->objs[--s->nobjs];
    size_t i = pidx(s, (void *)((uintptr_t)o & ~(uintptr_t)(PS - 1)));
    size_t slot = ((uintptr_t)o & (PS - 1)) / 8;
    assert_int_equal(l4mm_kcache_free(&s->cache, o), L4MM_OK);
    /* a double free: ENOENT, or EINVAL when its page already went back to the pool */
    l4mm_status again = l4mm_kcache_free(&s->cache, o);
    assert_true(again == L4MM_ENOENT || again == L4MM_EINVAL);
    s->objlive[i * SLOTS + slot] = 0;
    s->objcnt[i]--;
}

static void op_task_exit(struct sim *s)
{
    unsigned t = (unsigned)rndn(s, NTASKS);
    for (size_t i = 0; i < NPAGES; i++) {
        if (s->own[i] != O_TASK0 + t)
            continue;
        set_own(s, i, O_POOLED);
        assert_int_equal(l4mm_kpool_free(&s->main, arena_page(&s->a, i)), L4MM_OK);
    }
}

/* ---- the end: every page exactly once ----------------------------------------------- */

static void mark_list(struct sim *s, const struct l4mm_kpool *p, unsigned char *seen)
{
    void *const *w = p->head;
    for (size_t k = 0; k < npool(p); k++) {
        size_t i = pidx(s, w);
        assert_int_equal(seen[i], 0);
        assert_int_equal(s->own[i], O_POOLED);
        seen[i] = 1;
        w = w[0];
    }
    assert_null(w);
}

static void sim_finish(struct sim *s)
{
    while (s->nobjs > 0)
        op_cache_free(s);
    assert_int_equal(l4mm_kcache_shrink(&s->cache), L4MM_OK);
    struct l4mm_kcache_stats cs;
    l4mm_kcache_stats(&s->cache, &cs);
    assert_int_equal(cs.pages, 0);
    assert_int_equal(cs.live, 0);
    assert_int_equal(cs.pages_taken, cs.pages_returned);
    sim_check(s);
    unsigned char seen[NPAGES];
    memset(seen, 0, sizeof seen);
    mark_list(s, &s->main, seen);
    mark_list(s, &s->dma, seen);
    for (size_t k = 0; k < s->npager; k++) {
        size_t i = s->pager_stack[k];
        assert_int_equal(seen[i], 0);
        assert_int_equal(s->own[i], O_PAGER);
        seen[i] = 1;
    }
    for (size_t i = 0; i < NPAGES; i++) {
        if (s->own[i] == O_KERNEL || s->own[i] >= O_TASK0) {
            assert_int_equal(seen[i], 0);
            seen[i] = 1;
        }
        assert_int_equal(seen[i], 1); /* accounted for exactly once */
    }
    arena_fini(&s->a);
}

static void run(uint64_t seed, size_t reserve, size_t low, size_t high, size_t obj_size, size_t ops)
{
    struct sim *s = malloc(sizeof *s);
    assert_non_null(s);
    sim_init(s, seed, reserve, low, high, obj_size);
    for (size_t op = 0; op < ops; op++) {
        s->kill_declines = rndn(s, 4) == 0;
        s->want_sync_give = rndn(s, 8) == 0 ? rndn(s, 3) : 0;
        size_t r = rndn(s, 100);
        if (r < 30)
            op_alloc(s);
        else if (r < 50)
            op_free(s);
        else if (r < 62)
            op_pager(s);
        else if (r < 68)
            op_reclaim(s);
        else if (r < 82)
            op_cache_alloc(s);
        else if (r < 95)
            op_cache_free(s);
        else if (r < 98)
            op_task_exit(s);
        else
            op_bad(s);
        if (r < 30 || (r >= 68 && r < 95))
            sim_check(s);
        else
            sim_check_pools(s);
    }
    struct l4mm_kpool_stats st;
    l4mm_kpool_stats(&s->main, &st);
    /* the run really exercised the interesting paths */
    assert_true(st.oom_calls > 0);
    if (low > 0) {
        assert_true(st.refill_requests > 0);
        assert_true(st.refills_failed > 0);
    }
    assert_true(st.failures[L4MM_KP_NORMAL] + st.failures[L4MM_KP_DEFERRABLE] > 0);
    assert_true(s->kills > 0);
    printf("kpool random: seed %016llx ops %zu: oom calls %zu, refill requests %zu "
           "(failed %zu), failures C/N/D %zu/%zu/%zu, kills %zu, excess %zu, lowest %zu\n",
           (unsigned long long)seed, ops, st.oom_calls, st.refill_requests, st.refills_failed,
           st.failures[0], st.failures[1], st.failures[2], s->kills, st.excess_reports, st.lowest);
    assert_int_equal(st.refill_requests, s->want_calls);
    assert_int_equal(st.excess_reports, s->excess_calls);
    sim_finish(s);
    free(s);
}

static void test_kpool_random_adversarial_million_ops(void **state)
{
    (void)state;
    const char *env = getenv("L4MM_KPOOL_RANDOM_OPS");
    size_t total = env != NULL ? (size_t)strtoull(env, NULL, 10) : OPS_MAIN;
    size_t part = total / 4 + 1;
    run(0x9e3779b97f4a7c15ULL, 4, 8, 24, 24, part);
    run(0x123456789abcdefULL, 0, 0, 0, 8, part);
    run(0xdeadbeefcafef00dULL, 2, 2, 6, 100, part);
    run(0x0badc0ffee0ddf00ULL, 8, 16, 40, 200, part);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpool_random_adversarial_million_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
