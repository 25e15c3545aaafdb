/* Unit tests of the OOM policy chain (l4mm_oom_chain_*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

#define PS 128u

/* A task that holds pages; the kill callback gives them back. */
struct world {
    struct arena a;
    struct l4mm_kpool main, dma;
    struct l4mm_oom_chain chain;
    void *task_pages[16];
    size_t task_n;
    void *cache_pages[16]; /* what the reclaim callback can give */
    size_t cache_n;
    char log[32]; /* order of steps: 'r' reclaim, 'k' kill */
    size_t nlog;
    size_t kills;
};

static void reclaim_cb(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls,
                       size_t attempt)
{
    (void)cls;
    (void)attempt;
    struct world *w = ctx;
    w->log[w->nlog++] = 'r';
    if (w->cache_n > 0)
        assert_int_equal(l4mm_kpool_give(pool, w->cache_pages[--w->cache_n]), L4MM_OK);
}

static void kill_cb(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls, size_t attempt)
{
    (void)cls;
    (void)attempt;
    struct world *w = ctx;
    w->log[w->nlog++] = 'k';
    void *pg;
    /* only give is allowed from inside the hook */
    assert_int_equal(l4mm_kpool_alloc(pool, L4MM_KP_CRITICAL, &pg), L4MM_EBUSY);
    if (w->task_n > 0)
        w->kills++;
    while (w->task_n > 0)
        assert_int_equal(l4mm_kpool_give(pool, w->task_pages[--w->task_n]), L4MM_OK);
}

/* main: reserve 1, low 2, high 8; dma: reserve 1, low 2, high 8. Arena pages: 0-15 main
 * boot, 16-31 dma boot, 32-47 task, 48-63 cache. */
static struct world *world_new(size_t main_pages, size_t dma_pages, const char *steps,
                               unsigned kill_classes)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    arena_init(&w->a, PS, 64);
    const struct l4mm_kpool_config cfg = { PS, 1, 2, 8 };
    struct l4mm_kpool_ops ops = { NULL, NULL, l4mm_oom_chain_hook, &w->chain };
    assert_int_equal(l4mm_kpool_init(&w->main, &cfg, &ops), L4MM_OK);
    assert_int_equal(l4mm_kpool_init(&w->dma, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < main_pages; i++)
        assert_int_equal(l4mm_kpool_give(&w->main, arena_page(&w->a, i)), L4MM_OK);
    for (size_t i = 0; i < dma_pages; i++)
        assert_int_equal(l4mm_kpool_give(&w->dma, arena_page(&w->a, 16 + i)), L4MM_OK);
    struct l4mm_oom_chain_config cc;
    memset(&cc, 0, sizeof cc);
    cc.pool = &w->main;
    for (size_t i = 0; steps[i] != '\0'; i++) {
        cc.steps[i].kind = steps[i] == 'f'   ? L4MM_OOM_STEP_FALLBACK
                           : steps[i] == 'r' ? L4MM_OOM_STEP_RECLAIM
                                             : L4MM_OOM_STEP_KILL;
        cc.steps[i].classes = steps[i] == 'k' ? kill_classes : 0;
        cc.nsteps++;
    }
    cc.fallback = &w->dma;
    cc.fallback_class = L4MM_KP_NORMAL;
    cc.fallback_batch = 2;
    cc.reclaim = reclaim_cb;
    cc.reclaim_ctx = w;
    cc.kill = kill_cb;
    cc.kill_ctx = w;
    assert_int_equal(l4mm_oom_chain_init(&w->chain, &cc), L4MM_OK);
    return w;
}

static void world_task_pages(struct world *w, size_t k)
{
    for (size_t i = 0; i < k; i++)
        w->task_pages[w->task_n++] = arena_page(&w->a, 32 + i);
}

static void world_cache_pages(struct world *w, size_t k)
{
    for (size_t i = 0; i < k; i++)
        w->cache_pages[w->cache_n++] = arena_page(&w->a, 48 + i);
}

static void world_free(struct world *w)
{
    assert_int_equal(l4mm_kpool_check(&w->main), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&w->dma), L4MM_OK);
    arena_fini(&w->a);
    free(w);
}

static size_t pages_of(const struct l4mm_kpool *p)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(p, &s);
    return s.pages;
}

static void test_oom_chain_init_rejects_bad_configs(void **state)
{
    (void)state;
    struct world *w = world_new(0, 0, "frk", 0);
    struct l4mm_oom_chain ch;
    struct l4mm_oom_chain_config cc = w->chain.cfg;
    assert_int_equal(l4mm_oom_chain_init(&ch, &cc), L4MM_OK);
    assert_int_equal(l4mm_oom_chain_init(NULL, &cc), L4MM_EINVAL);
    assert_int_equal(l4mm_oom_chain_init(&ch, NULL), L4MM_EINVAL);
    struct l4mm_oom_chain_config b;
    b = cc, b.pool = NULL;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.nsteps = L4MM_OOM_CHAIN_MAX_STEPS + 1;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.fallback = NULL;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.fallback = &w->main;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.fallback_batch = 0;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.fallback_class = (enum l4mm_kpool_class)5;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.reclaim = NULL;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.kill = NULL;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.steps[1].kind = (enum l4mm_oom_step_kind)9;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    b = cc, b.steps[0].classes = 8;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    /* a different page size in the fallback */
    struct l4mm_kpool other;
    const struct l4mm_kpool_config ocfg = { PS * 2, 0, 0, 0 };
    assert_int_equal(l4mm_kpool_init(&other, &ocfg, NULL), L4MM_OK);
    b = cc, b.fallback = &other;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_EINVAL);
    /* callbacks not needed by any step may be NULL */
    b = cc, b.nsteps = 1, b.reclaim = NULL, b.kill = NULL;
    assert_int_equal(l4mm_oom_chain_init(&ch, &b), L4MM_OK);
    /* the hook on garbage context fails safely */
    assert_int_equal(l4mm_oom_chain_hook(NULL, L4MM_KP_NORMAL, 0), L4MM_OOM_FAIL);
    world_free(w);
}

static void test_oom_chain_takes_pages_from_fallback_pool_first(void **state)
{
    (void)state;
    struct world *w = world_new(1, 6, "frk", 0);
    world_task_pages(w, 3);
    world_cache_pages(w, 3);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(w->nlog, 0);
    assert_int_equal(pages_of(&w->dma), 4);  /* batch of 2 moved */
    assert_int_equal(pages_of(&w->main), 2); /* 1 + 2 - 1 */
    struct l4mm_oom_chain_stats s;
    l4mm_oom_chain_stats(&w->chain, &s);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.fallback_pages, 2);
    assert_int_equal(s.fails, 0);
    world_free(w);
}

static void test_oom_chain_falls_through_steps_in_order_and_retries(void **state)
{
    (void)state;
    /* dma at its reserve: NORMAL fallback allocation cannot take its last page */
    struct world *w = world_new(1, 1, "frk", 0);
    world_task_pages(w, 4);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(w->nlog, 2);
    assert_memory_equal(w->log, "rk", 2);
    assert_int_equal(w->kills, 1);
    assert_int_equal(pages_of(&w->main), 4);
    assert_int_equal(pages_of(&w->dma), 1);
    struct l4mm_kpool_stats ps;
    l4mm_kpool_stats(&w->main, &ps);
    assert_int_equal(ps.oom_calls, 1);
    world_free(w);
}

static void test_oom_chain_reclaim_step_stops_the_walk(void **state)
{
    (void)state;
    struct world *w = world_new(1, 0, "rk", 0);
    world_task_pages(w, 2);
    world_cache_pages(w, 2);
    void *pg;
    /* NORMAL needs n > 1: one reclaim call gives one page -> RETRY -> served */
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_NORMAL, &pg), L4MM_OK);
    assert_int_equal(w->nlog, 1);
    assert_int_equal(w->log[0], 'r');
    assert_int_equal(w->kills, 0);
    world_free(w);
}

static void test_oom_chain_fails_when_nothing_helps_and_never_panics(void **state)
{
    (void)state;
    struct world *w = world_new(0, 0, "frk", 0);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_CRITICAL, &pg), L4MM_ENOMEM);
    struct l4mm_oom_chain_stats s;
    l4mm_oom_chain_stats(&w->chain, &s);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.fails, 1);
    assert_int_equal(s.reclaim_calls, 1);
    assert_int_equal(s.kill_calls, 1);
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_DEFERRABLE, &pg), L4MM_ENOMEM);
    l4mm_oom_chain_stats(&w->chain, &s);
    assert_int_equal(s.calls, 1); /* DEFERRABLE never reaches the chain */
    world_free(w);
}

static void test_oom_chain_kill_step_limited_to_critical(void **state)
{
    (void)state;
    struct world *w = world_new(1, 0, "k", 1u << L4MM_KP_CRITICAL);
    world_task_pages(w, 2);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_NORMAL, &pg), L4MM_ENOMEM);
    assert_int_equal(w->kills, 0);
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(w->kills, 1);
    world_free(w);
}

static void test_oom_chain_critical_fallback_may_use_fallback_critical_class(void **state)
{
    (void)state;
    struct world *w = world_new(0, 1, "f", 0);
    /* reconfigure: fallback class CRITICAL may take the DMA pool's last page */
    struct l4mm_oom_chain_config cc = w->chain.cfg;
    cc.fallback_class = L4MM_KP_CRITICAL;
    assert_int_equal(l4mm_oom_chain_init(&w->chain, &cc), L4MM_OK);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&w->main, L4MM_KP_CRITICAL, &pg), L4MM_OK);
    assert_int_equal(pages_of(&w->dma), 0);
    assert_int_equal(pages_of(&w->main), 0);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_chain_init_rejects_bad_configs),
        cmocka_unit_test(test_oom_chain_takes_pages_from_fallback_pool_first),
        cmocka_unit_test(test_oom_chain_falls_through_steps_in_order_and_retries),
        cmocka_unit_test(test_oom_chain_reclaim_step_stops_the_walk),
        cmocka_unit_test(test_oom_chain_fails_when_nothing_helps_and_never_panics),
        cmocka_unit_test(test_oom_chain_kill_step_limited_to_critical),
        cmocka_unit_test(test_oom_chain_critical_fallback_may_use_fallback_critical_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
