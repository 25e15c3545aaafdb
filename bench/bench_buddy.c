/*
 * bench_buddy.c - the buddy allocator against two baselines, over 1 GiB of 4 KiB pages.
 *
 *   ./bench_buddy [--max-order N]      all figures, ns/op median of 5 runs, ratios
 *                                      (max_order 18 by default: one block can be 1 GiB)
 *   valgrind --tool=callgrind --collect-atstart=no --instr-atstart=yes \
 *       ./bench_buddy --callgrind W A [--max-order N]  instructions: only workload W (a|b|c) of
 * allocator A (buddy|bitmap|stack) is collected; Ir / printed ops
 *
 * Workloads (fixed seed):
 *   (a) order-0 alloc/free pairs on an empty (all free) range; one op = one pair;
 *   (b) 3,584 slots; each step picks a slot: a live slot is freed, an empty one allocated at
 *       a random order 0..9 (about 70 % of the pages live); 1 M steps after 20 k warm-up;
 *   (c) fill the range with order-0 blocks, then free them in random order; op = alloc or free.
 * Also: metadata bytes/page, init time, take of 256 MiB, p99.9 latency of (b) (clock_gettime
 * around each step, timer overhead included and printed), and failures at 90 % demand.
 *
 * Baselines (same process): "bitmap" = first-fit bitmap (1 = free) with a search hint,
 * aligned runs for order k; "stack" = an external stack of free page indices (order 0 only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/buddy.h>

#include "bench_util.h"

#define PAGES (1u << 18) /* 1 GiB of 4 KiB pages */
#define PGSH  12u
#define BASE  0x40000000ull /* 1 GiB: natural alignment holds for order 18 */
#define SLOTS 3584u
#define STEPS 1000000u
#define WARM  20000u
#define A_OPS 1000000u

/* ---- baseline 1: first-fit bitmap with a search hint ------------------------------------- */
struct bmp {
    uint64_t w[PAGES / 64];
    uint32_t hint; /* no free page below word `hint` */
};

static void bmp_init(struct bmp *m)
{
    memset(m->w, 0xff, sizeof m->w);
    m->hint = 0;
}

static int bmp_alloc(struct bmp *m, unsigned k, uint64_t *out)
{
    if (k < 6) {
        uint64_t run = (1ull << (1u << k)) - 1u;
        for (uint32_t i = m->hint; i < PAGES / 64; i++) {
            uint64_t v = m->w[i];
            if (!v)
                continue;
            for (unsigned b = 0; b < 64; b += 1u << k) {
                if (((v >> b) & run) == run) {
                    m->w[i] = v & ~(run << b);
                    if (i == m->hint && !m->w[i])
                        m->hint = i + 1;
                    *out = BASE + (((uint64_t)i * 64 + b) << PGSH);
                    return 0;
                }
            }
        }
        return -1;
    }
    uint32_t nw = 1u << (k - 6);
    for (uint32_t i = m->hint & ~(nw - 1u); i < PAGES / 64; i += nw) {
        uint32_t j = 0;
        while (j < nw && m->w[i + j] == ~0ull)
            j++;
        if (j == nw) {
            for (j = 0; j < nw; j++)
                m->w[i + j] = 0;
            *out = BASE + (((uint64_t)i * 64) << PGSH);
            return 0;
        }
    }
    return -1;
}

static void bmp_free(struct bmp *m, uint64_t a, unsigned k)
{
    uint64_t p = (a - BASE) >> PGSH;
    uint32_t i = (uint32_t)(p / 64);
    if (k < 6)
        m->w[i] |= ((1ull << (1u << k)) - 1u) << (p % 64);
    else
        for (uint32_t j = 0; j < (1u << (k - 6)); j++)
            m->w[i + j] = ~0ull;
    if (i < m->hint)
        m->hint = i;
}

/* ---- baseline 2: external stack of free page indices (order 0 only) ---------------------- */
struct stk {
    uint32_t v[PAGES];
    uint32_t n;
};

static void stk_init(struct stk *s)
{
    for (uint32_t i = 0; i < PAGES; i++)
        s->v[i] = PAGES - 1u - i;
    s->n = PAGES;
}

static inline int stk_alloc(struct stk *s, uint64_t *out)
{
    if (!s->n)
        return -1;
    *out = BASE + ((uint64_t)s->v[--s->n] << PGSH);
    return 0;
}

static inline void stk_free(struct stk *s, uint64_t a)
{
    s->v[s->n++] = (uint32_t)((a - BASE) >> PGSH);
}

/* ---- the three allocators behind one switch ------------------------------------------- */
enum alloc_kind { BUDDY, BITMAP, STACK };
static const char *kind_name[] = { "buddy", "bitmap", "stack" };

static unsigned bench_mo = 18; /* --max-order N */
static struct l4mm_buddy bud;
static uint64_t *bud_meta;
static size_t bud_msz;
static struct bmp bm;
static struct stk sk;

static void setup(enum alloc_kind a)
{
    if (a == BUDDY) {
        if (l4mm_buddy_init(&bud, bud_meta, bud_msz, BASE, (uint64_t)PAGES << PGSH, PGSH,
                            bench_mo) ||
            l4mm_buddy_add(&bud, BASE, (uint64_t)PAGES << PGSH)) {
            fprintf(stderr, "buddy setup failed\n");
            exit(1);
        }
    } else if (a == BITMAP) {
        bmp_init(&bm);
    } else {
        stk_init(&sk);
    }
}

static inline int do_alloc(enum alloc_kind a, unsigned k, uint64_t *out)
{
    if (a == BUDDY)
        return l4mm_buddy_alloc(&bud, k, out) == L4MM_OK ? 0 : -1;
    if (a == BITMAP)
        return bmp_alloc(&bm, k, out);
    return stk_alloc(&sk, out);
}

static inline void do_free(enum alloc_kind a, uint64_t addr, unsigned k)
{
    if (a == BUDDY) {
        if (l4mm_buddy_free(&bud, addr, k) != L4MM_OK) {
            fprintf(stderr, "buddy free failed\n");
            exit(1);
        }
    } else if (a == BITMAP) {
        bmp_free(&bm, addr, k);
    } else {
        stk_free(&sk, addr);
    }
}

/* ---- workloads: each returns the number of ops it performed ----------------------------- */
static uint64_t wl_a(enum alloc_kind a, int cg)
{
    uint64_t x;
    if (cg)
        BENCH_CG_START();
    for (uint32_t i = 0; i < A_OPS; i++) {
        do_alloc(a, 0, &x);
        do_free(a, x, 0);
    }
    if (cg)
        BENCH_CG_STOP();
    BENCH_KEEP(x);
    return A_OPS;
}

static uint64_t slot_addr[SLOTS];
static unsigned char slot_ord[SLOTS], slot_live[SLOTS];
static double *lat; /* per-step latencies of (b), when measuring */

static uint64_t wl_b(enum alloc_kind a, int cg, uint64_t *fails)
{
    uint64_t seed = 0x1234567887654321ull, f = 0;
    memset(slot_live, 0, sizeof slot_live);
    for (uint32_t i = 0; i < WARM + STEPS; i++) {
        uint64_t r = bench_rand(&seed);
        uint32_t s = (uint32_t)(r % SLOTS);
        unsigned k = (unsigned)((r >> 32) % 10u);
        uint64_t t0 = 0;
        if (i == WARM && cg)
            BENCH_CG_START();
        if (lat && i >= WARM)
            t0 = bench_now_ns();
        if (slot_live[s]) {
            do_free(a, slot_addr[s], slot_ord[s]);
            slot_live[s] = 0;
        } else if (do_alloc(a, k, &slot_addr[s]) == 0) {
            slot_ord[s] = (unsigned char)k;
            slot_live[s] = 1;
        } else if (i >= WARM) {
            f++;
        }
        if (lat && i >= WARM)
            lat[i - WARM] = (double)(bench_now_ns() - t0);
    }
    if (cg)
        BENCH_CG_STOP();
    for (uint32_t s = 0; s < SLOTS; s++)
        if (slot_live[s])
            do_free(a, slot_addr[s], slot_ord[s]);
    if (fails)
        *fails = f;
    return STEPS;
}

static uint64_t pages_addr[PAGES];

static uint64_t wl_c(enum alloc_kind a, int cg)
{
    uint64_t seed = 42, n = 0;
    if (cg)
        BENCH_CG_START();
    while (n < PAGES && do_alloc(a, 0, &pages_addr[n]) == 0)
        n++;
    if (cg)
        BENCH_CG_STOP();
    for (uint64_t i = n; i > 1; i--) { /* shuffle outside the measurement */
        uint64_t j = bench_rand(&seed) % i, t = pages_addr[i - 1];
        pages_addr[i - 1] = pages_addr[j];
        pages_addr[j] = t;
    }
    if (cg)
        BENCH_CG_START();
    for (uint64_t i = 0; i < n; i++)
        do_free(a, pages_addr[i], 0);
    if (cg)
        BENCH_CG_STOP();
    return 2 * n;
}

/* Failures at 90 % demand: random orders 0..9 into slots, allocating while fewer than 90 %
 * of the pages are live, else freeing a random live slot. */
static uint64_t wl_demand(enum alloc_kind a)
{
    enum { DS = 20000 };
    static uint64_t da[DS];
    static unsigned char dk[DS];
    uint64_t seed = 777, live = 0, fails = 0;
    uint32_t n = 0;
    for (uint32_t i = 0; i < 400000u; i++) {
        uint64_t r = bench_rand(&seed);
        if (live < PAGES * 9ull / 10u && n < DS) {
            unsigned k = (unsigned)(r % 10u);
            if (do_alloc(a, k, &da[n]) == 0) {
                dk[n] = (unsigned char)k;
                live += 1ull << k;
                n++;
            } else {
                fails++;
            }
        } else if (n) {
            uint32_t j = (uint32_t)((r >> 20) % n);
            do_free(a, da[j], dk[j]);
            live -= 1ull << dk[j];
            da[j] = da[--n];
            dk[j] = dk[n];
        }
    }
    while (n) {
        n--;
        do_free(a, da[n], dk[n]);
    }
    return fails;
}

/* ---- timing helpers ---------------------------------------------------------------------- */
static double time_wl(enum alloc_kind a, char w)
{
    double v[L4MM_BENCH_REPS];
    for (int r = 0; r < L4MM_BENCH_REPS; r++) {
        uint64_t t0, ops;
        setup(a);
        t0 = bench_now_ns();
        ops = w == 'a' ? wl_a(a, 0) : w == 'b' ? wl_b(a, 0, NULL) : wl_c(a, 0);
        v[r] = (double)(bench_now_ns() - t0) / (double)ops;
    }
    return bench_median(v, L4MM_BENCH_REPS);
}

static void print_ratio(const char *fig, double buddy, double bmp, double stk)
{
    char r1[16] = "-", r2[16] = "-";
    if (bmp > 0)
        snprintf(r1, sizeof r1, "%.2fx", buddy / bmp);
    if (stk > 0)
        snprintf(r2, sizeof r2, "%.2fx", buddy / stk);
    printf("| %-36s | %10.3f | %10.3f | %10.3f | %8s | %8s |\n", fig, buddy, bmp, stk, r1, r2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--max-order") == 0)
            bench_mo = (unsigned)atoi(argv[i + 1]);
    bud_msz = l4mm_buddy_meta_size(BASE, (uint64_t)PAGES << PGSH, PGSH, bench_mo);
    bud_meta = aligned_alloc(64, (bud_msz + 63) & ~(size_t)63);
    if (!bud_meta)
        return 1;
    if (argc >= 4 && strcmp(argv[1], "--callgrind") == 0) {
        char w = argv[2][0];
        enum alloc_kind a = BUDDY;
        uint64_t ops;
        for (int i = 0; i < 3; i++)
            if (strcmp(argv[3], kind_name[i]) == 0)
                a = (enum alloc_kind)i;
        if (a == STACK && w == 'b')
            return 2;
        setup(a);
        ops = w == 'a' ? wl_a(a, 1) : w == 'b' ? wl_b(a, 1, NULL) : wl_c(a, 1);
        printf("callgrind %c %s ops %llu\n", w, kind_name[a], (unsigned long long)ops);
        return 0;
    }
    {
        double ta[3], tb[2], tc[3], init_ns[L4MM_BENCH_REPS], take_ns[L4MM_BENCH_REPS];
        uint64_t fb[2], fd[2];
        struct l4mm_buddy tmp;
        for (int i = 0; i < 3; i++) {
            ta[i] = time_wl((enum alloc_kind)i, 'a');
            tc[i] = time_wl((enum alloc_kind)i, 'c');
        }
        for (int i = 0; i < 2; i++) {
            tb[i] = time_wl((enum alloc_kind)i, 'b');
            setup((enum alloc_kind)i);
            (void)wl_b((enum alloc_kind)i, 0, &fb[i]);
            setup((enum alloc_kind)i);
            fd[i] = wl_demand((enum alloc_kind)i);
        }
        for (int r = 0; r < L4MM_BENCH_REPS; r++) {
            uint64_t t0 = bench_now_ns();
            (void)l4mm_buddy_init(&tmp, bud_meta, bud_msz, BASE, (uint64_t)PAGES << PGSH, PGSH,
                                  bench_mo);
            init_ns[r] = (double)(bench_now_ns() - t0);
            (void)l4mm_buddy_add(&tmp, BASE, (uint64_t)PAGES << PGSH);
            t0 = bench_now_ns();
            if (l4mm_buddy_take(&tmp, BASE + (256ull << 20), 256ull << 20) != L4MM_OK)
                return 1;
            take_ns[r] = (double)(bench_now_ns() - t0);
        }
        /* p99.9 of (b), with per-step timestamps */
        lat = malloc(sizeof(double) * STEPS);
        if (!lat)
            return 1;
        double p999[2], tover[64];
        for (int i = 0; i < 2; i++) {
            setup((enum alloc_kind)i);
            (void)wl_b((enum alloc_kind)i, 0, NULL);
            p999[i] = bench_quantile(lat, STEPS, 0.999);
        }
        for (int i = 0; i < 64; i++) {
            uint64_t t0 = bench_now_ns();
            tover[i] = (double)(bench_now_ns() - t0);
        }
        printf("l4mm buddy bench: 1 GiB of 4 KiB pages (%u pages), max_order %u, seed fixed\n",
               PAGES, bench_mo);
        printf("| %-36s | %10s | %10s | %10s | %8s | %8s |\n", "figure (stack: order 0 only)",
               "buddy", "bitmap", "stack", "/bitmap", "/stack");
        printf("|%s|\n", "--------------------------------------|------------|------------|--"
                         "----------|----------|----------");
        print_ratio("(a) ns per alloc+free pair", ta[0], ta[1], ta[2]);
        print_ratio("(b) ns per step", tb[0], tb[1], 0);
        print_ratio("(c) ns per op (fill, random free)", tc[0], tc[1], tc[2]);
        print_ratio("(b) p99.9 ns/step (incl. timer)", p999[0], p999[1], 0);
        print_ratio("(b) ENOMEM in 1 M steps", (double)fb[0], (double)fb[1], 0);
        print_ratio("ENOMEM at 90 % demand (400 k steps)", (double)fd[0], (double)fd[1], 0);
        print_ratio("metadata bytes per page", (double)bud_msz / PAGES, (double)sizeof bm.w / PAGES,
                    (double)sizeof sk.v / PAGES);
        printf("metadata: %zu bytes in the buffer + %zu bytes of struct = %.4f B/page\n", bud_msz,
               sizeof(struct l4mm_buddy), (double)(bud_msz + sizeof(struct l4mm_buddy)) / PAGES);
        printf("init (zeroes %zu bytes): %.0f ns median\n", bud_msz,
               bench_median(init_ns, L4MM_BENCH_REPS));
        printf("take 256 MiB (65536 pages): %.0f ns median\n",
               bench_median(take_ns, L4MM_BENCH_REPS));
        printf("timer overhead per sample: %.0f ns median\n", bench_median(tover, 64));
        free(lat);
    }
    free(bud_meta);
    return 0;
}
