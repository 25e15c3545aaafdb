/*
 * bench_kpool.c - cost of an alloc/free pair: kpool pages and kcache objects.
 *
 *   ./bench_kpool               ns per pair (median of L4MM_BENCH_REPS runs)
 *   valgrind --tool=callgrind --collect-atstart=no --instr-atstart=yes \
 *       ./bench_kpool --callgrind   instructions: each loop is bracketed separately, run
 *                                   one at a time with --only=kpool|kpool-inline|kcache|
 *                                   kcache-inline|kcache-churn|kpool-gen|kpool-gen-inline|
 *                                   kcache-gen|kcache-gen-inline|empty ("empty": the bare
 *                                   loop, to subtract)
 *
 * What the instruction figures count (Ir / CG_ITERS):
 *  - "in the library": the Ir callgrind attributes to the l4mm_* functions (and their
 *    out-of-line slow helpers) - the callee's instructions including its `ret`, excluding
 *    the caller's argument setup and `call` instruction;
 *  - "whole loop": everything between the brackets, i.e. the above plus the loop counter,
 *    argument setup, calls and the result checks (`!= L4MM_OK` -> abort);
 *  - inline variants have no callee: their library share is the whole loop minus the
 *    empty loop (counter + branch) minus the reloads BENCH_KEEP forces.
 *
 * Two shapes of pair. The plain loops free the page/object the previous call handed out
 * (the "hot" memo: no validation needed). The "-gen" loops allocate two and free the older
 * first, then the other, so every free takes the general, fully validating path; each of
 * their iterations is two pairs and runs CG_ITERS / 2 times, so Ir / CG_ITERS is still per
 * pair.
 *
 * Steady state, as in a kernel: the pool sits between low and high, the cache has live
 * objects in a partial page, so neither hits a slow path. "kcache-churn" is the worst common
 * case of the hysteresis: a cache whose only object is allocated and freed (the page moves
 * between the empty slot and the partial list every time, but never back to the pool).
 */
#include <stdio.h>

#include "bench_util.h"
#include <l4mm/kpool.h>

#define PS       4096u
#define NPAGES   256u
#define ITERS    2000000u
#define CG_ITERS 100000u

static struct l4mm_kpool pool;
static struct l4mm_kcache cache;
static unsigned char *mem;

static void setup(void)
{
    mem = aligned_alloc(PS, (size_t)PS * NPAGES);
    if (mem == NULL)
        exit(1);
    memset(mem, 0, (size_t)PS * NPAGES);
    const struct l4mm_kpool_config cfg = { PS, 8, 16, 512 };
    if (l4mm_kpool_init(&pool, &cfg, NULL) != L4MM_OK)
        exit(1);
    for (size_t i = 0; i < NPAGES; i++)
        if (l4mm_kpool_give(&pool, mem + i * PS) != L4MM_OK)
            exit(1);
    if (l4mm_kcache_init(&cache, &pool, 48, L4MM_KP_NORMAL) != L4MM_OK)
        exit(1);
}

static void loop_kpool(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *p;
        if (l4mm_kpool_alloc(&pool, L4MM_KP_NORMAL, &p) != L4MM_OK)
            abort();
        BENCH_KEEP(p);
        if (l4mm_kpool_free(&pool, p) != L4MM_OK)
            abort();
    }
}

static void loop_kpool_inline(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *p;
        if (l4mm_kpool_alloc_fast(&pool, L4MM_KP_NORMAL, &p) != L4MM_OK)
            abort();
        BENCH_KEEP(p);
        if (l4mm_kpool_free_fast(&pool, p) != L4MM_OK)
            abort();
    }
}

/* Two pairs per iteration; neither free is of the most recently allocated page. */
static void loop_kpool_gen(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *a, *b;
        if (l4mm_kpool_alloc(&pool, L4MM_KP_NORMAL, &a) != L4MM_OK ||
            l4mm_kpool_alloc(&pool, L4MM_KP_NORMAL, &b) != L4MM_OK)
            abort();
        BENCH_KEEP(a);
        BENCH_KEEP(b);
        if (l4mm_kpool_free(&pool, a) != L4MM_OK || l4mm_kpool_free(&pool, b) != L4MM_OK)
            abort();
    }
}

static void loop_kpool_gen_inline(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *a, *b;
        if (l4mm_kpool_alloc_fast(&pool, L4MM_KP_NORMAL, &a) != L4MM_OK ||
            l4mm_kpool_alloc_fast(&pool, L4MM_KP_NORMAL, &b) != L4MM_OK)
            abort();
        BENCH_KEEP(a);
        BENCH_KEEP(b);
        if (l4mm_kpool_free_fast(&pool, a) != L4MM_OK || l4mm_kpool_free_fast(&pool, b) != L4MM_OK)
            abort();
    }
}

static void loop_empty(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *p = &pool;
        BENCH_KEEP(p);
    }
}

static void loop_kcache(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *o;
        if (l4mm_kcache_alloc(&cache, &o) != L4MM_OK)
            abort();
        BENCH_KEEP(o);
        if (l4mm_kcache_free(&cache, o) != L4MM_OK)
            abort();
    }
}

static void loop_kcache_inline(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *o;
        if (l4mm_kcache_alloc_fast(&cache, &o) != L4MM_OK)
            abort();
        BENCH_KEEP(o);
        if (l4mm_kcache_free_fast(&cache, o) != L4MM_OK)
            abort();
    }
}

static void loop_kcache_gen(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *a, *b;
        if (l4mm_kcache_alloc(&cache, &a) != L4MM_OK || l4mm_kcache_alloc(&cache, &b) != L4MM_OK)
            abort();
        BENCH_KEEP(a);
        BENCH_KEEP(b);
        if (l4mm_kcache_free(&cache, a) != L4MM_OK || l4mm_kcache_free(&cache, b) != L4MM_OK)
            abort();
    }
}

static void loop_kcache_gen_inline(unsigned iters)
{
    for (unsigned i = 0; i < iters; i++) {
        void *a, *b;
        if (l4mm_kcache_alloc_fast(&cache, &a) != L4MM_OK ||
            l4mm_kcache_alloc_fast(&cache, &b) != L4MM_OK)
            abort();
        BENCH_KEEP(a);
        BENCH_KEEP(b);
        if (l4mm_kcache_free_fast(&cache, a) != L4MM_OK ||
            l4mm_kcache_free_fast(&cache, b) != L4MM_OK)
            abort();
    }
}

static void *live[8];

static void cache_live(bool on)
{
    for (size_t i = 0; i < 8; i++) {
        if (on ? l4mm_kcache_alloc(&cache, &live[i]) != L4MM_OK
               : l4mm_kcache_free(&cache, live[i]) != L4MM_OK)
            abort();
    }
}

static double time_ns(void (*fn)(unsigned), unsigned iters)
{
    double v[L4MM_BENCH_REPS];
    fn(iters / 10); /* warm up */
    for (int r = 0; r < L4MM_BENCH_REPS; r++) {
        uint64_t t0 = bench_now_ns();
        fn(iters);
        v[r] = (double)(bench_now_ns() - t0) / iters;
    }
    return bench_median(v, L4MM_BENCH_REPS);
}

int main(int argc, char **argv)
{
    bool cg = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--callgrind") == 0)
            cg = true;
        else if (strncmp(argv[i], "--only=", 7) == 0)
            only = argv[i] + 7;
    }
    setup();
    if (cg) {
        /* One bracketed loop per run, so Ir / CG_ITERS is that loop's cost per pair
         * (including the loop's own compare/branch and the calls). */
        if (only == NULL || strcmp(only, "kpool") == 0) {
            loop_kpool(16);
            BENCH_CG_START();
            loop_kpool(CG_ITERS);
            BENCH_CG_STOP();
        } else if (strcmp(only, "kpool-inline") == 0) {
            loop_kpool_inline(16);
            BENCH_CG_START();
            loop_kpool_inline(CG_ITERS);
            BENCH_CG_STOP();
        } else if (strcmp(only, "empty") == 0) {
            BENCH_CG_START();
            loop_empty(CG_ITERS);
            BENCH_CG_STOP();
        } else if (strcmp(only, "kcache") == 0) {
            cache_live(true);
            loop_kcache(16);
            BENCH_CG_START();
            loop_kcache(CG_ITERS);
            BENCH_CG_STOP();
            cache_live(false);
        } else if (strcmp(only, "kcache-inline") == 0) {
            cache_live(true);
            loop_kcache_inline(16);
            BENCH_CG_START();
            loop_kcache_inline(CG_ITERS);
            BENCH_CG_STOP();
            cache_live(false);
        } else if (strcmp(only, "kpool-gen") == 0) {
            loop_kpool_gen(16);
            BENCH_CG_START();
            loop_kpool_gen(CG_ITERS / 2);
            BENCH_CG_STOP();
        } else if (strcmp(only, "kpool-gen-inline") == 0) {
            loop_kpool_gen_inline(16);
            BENCH_CG_START();
            loop_kpool_gen_inline(CG_ITERS / 2);
            BENCH_CG_STOP();
        } else if (strcmp(only, "kcache-gen") == 0) {
            cache_live(true);
            loop_kcache_gen(16);
            BENCH_CG_START();
            loop_kcache_gen(CG_ITERS / 2);
            BENCH_CG_STOP();
            cache_live(false);
        } else if (strcmp(only, "kcache-gen-inline") == 0) {
            cache_live(true);
            loop_kcache_gen_inline(16);
            BENCH_CG_START();
            loop_kcache_gen_inline(CG_ITERS / 2);
            BENCH_CG_STOP();
            cache_live(false);
        } else if (strcmp(only, "kcache-churn") == 0) {
            loop_kcache(16);
            BENCH_CG_START();
            loop_kcache(CG_ITERS);
            BENCH_CG_STOP();
        }
        printf("callgrind: %u pairs measured; instructions/pair = Ir / %u\n", CG_ITERS, CG_ITERS);
    } else {
        printf("kpool  alloc+free pair:         %6.2f ns\n", time_ns(loop_kpool, ITERS));
        printf("kpool  alloc+free pair, inline: %6.2f ns\n", time_ns(loop_kpool_inline, ITERS));
        printf("kpool  general pair:            %6.2f ns\n",
               time_ns(loop_kpool_gen, ITERS / 2) / 2);
        printf("kpool  general pair, inline:    %6.2f ns\n",
               time_ns(loop_kpool_gen_inline, ITERS / 2) / 2);
        cache_live(true);
        printf("kcache alloc+free pair:         %6.2f ns\n", time_ns(loop_kcache, ITERS));
        printf("kcache alloc+free pair, inline: %6.2f ns\n", time_ns(loop_kcache_inline, ITERS));
        printf("kcache general pair:            %6.2f ns\n",
               time_ns(loop_kcache_gen, ITERS / 2) / 2);
        printf("kcache general pair, inline:    %6.2f ns\n",
               time_ns(loop_kcache_gen_inline, ITERS / 2) / 2);
        cache_live(false);
        printf("kcache alloc+free pair (churn): %6.2f ns\n", time_ns(loop_kcache, ITERS));
    }
    if (l4mm_kcache_check(&cache) != L4MM_OK || l4mm_kpool_check(&pool) != L4MM_OK)
        return 1;
    free(mem);
    return 0;
}
