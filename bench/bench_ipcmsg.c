/*
 * bench_ipcmsg.c - parse + validate of a message carrying 8 map items (X.2 and L4Re, 64-bit).
 *
 * Reports ns per item (median of L4MM_BENCH_REPS runs). With --callgrind the timed loops are
 * skipped and one loop per format is bracketed with BENCH_CG_START/STOP; run under
 *     valgrind --tool=callgrind --collect-atstart=no --instr-atstart=yes ./bench_ipcmsg --callgrind
 * (add "l4re" after --callgrind for the L4Re parser) and divide the reported Ir by the item
 * count printed here.
 */
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include <l4mm/ipcmsg.h>

#define ITEMS 8u
#define ITERS 2000000u

static void build_x2(uint64_t mr[1 + 2 + 2 * ITEMS])
{
    mr[0] = ((uint64_t)0x55 << 16) | ((uint64_t)(2u * ITEMS) << 6) | 2u; /* u 2, t 16 */
    mr[1] = 0x1111;
    mr[2] = 0x2222;
    for (unsigned i = 0; i < ITEMS; i++) {
        mr[3 + 2 * i] = ((uint64_t)i << 22) | 0x8u | (i + 1u < ITEMS ? 1u : 0u);
        mr[4 + 2 * i] = ((uint64_t)(0x100u + i) << 12) | (12u << 4) | 6u;
    }
}

static void build_l4re(uint64_t mr[1 + 2 + 2 * ITEMS])
{
    mr[0] = ((uint64_t)0x55 << 16) | ((uint64_t)ITEMS << 6) | 2u; /* 2 words, 8 items */
    mr[1] = 0x1111;
    mr[2] = 0x2222;
    for (unsigned i = 0; i < ITEMS; i++) {
        mr[3 + 2 * i] = ((uint64_t)i << 22) | 0x38u;
        mr[4 + 2 * i] = ((uint64_t)(0x100u + i) << 12) | (12u << 6) | 0x10u | 6u;
    }
}

typedef l4mm_status (*parse_fn)(const uint64_t *, size_t, struct l4mm_msg *);

static uint64_t run(parse_fn f, const uint64_t *mr, size_t n, unsigned iters)
{
    struct l4mm_msg m;
    uint64_t sum = 0;
    for (unsigned i = 0; i < iters; i++) {
        BENCH_KEEP(mr);
        if (f(mr, n, &m) != L4MM_OK) {
            fprintf(stderr, "parse failed\n");
            exit(1);
        }
        sum += m.items[ITEMS - 1].fpage.base;
    }
    return sum;
}

static void timed(const char *name, parse_fn f, const uint64_t *mr, size_t n)
{
    double ns[L4MM_BENCH_REPS];
    uint64_t keep = 0;
    for (unsigned r = 0; r < L4MM_BENCH_REPS; r++) {
        uint64_t t0 = bench_now_ns();
        keep += run(f, mr, n, ITERS);
        uint64_t t1 = bench_now_ns();
        ns[r] = (double)(t1 - t0) / ((double)ITERS * ITEMS);
    }
    BENCH_KEEP(keep);
    double med = bench_median(ns, L4MM_BENCH_REPS); /* sorts ns */
    printf("%-5s parse+validate, %u map items: %.2f ns/item (median of %d, best %.2f), "
           "%.1f ns/message\n",
           name, ITEMS, med, L4MM_BENCH_REPS, ns[0], med * ITEMS);
}

int main(int argc, char **argv)
{
    uint64_t x2[1 + 2 + 2 * ITEMS], re[1 + 2 + 2 * ITEMS];
    const size_t n = sizeof x2 / sizeof x2[0];
    build_x2(x2);
    build_l4re(re);

    if (argc > 1 && strcmp(argv[1], "--callgrind") == 0) {
        const unsigned iters = 10000u;
        const bool l4re = argc > 2 && strcmp(argv[2], "l4re") == 0;
        uint64_t keep = 0;
        BENCH_CG_START();
        keep += run(l4re ? l4mm_l4re_msg_parse : l4mm_x2_msg_parse, l4re ? re : x2, n, iters);
        BENCH_CG_STOP();
        BENCH_KEEP(keep);
        printf("callgrind: %s loop = %u messages = %u items; Ir / %u = instructions per item\n",
               l4re ? "L4Re" : "X.2", iters, iters * ITEMS, iters * ITEMS);
        return 0;
    }
    timed("X.2", l4mm_x2_msg_parse, x2, n);
    timed("L4Re", l4mm_l4re_msg_parse, re, n);
    return 0;
}
