/*
 * bench_util.h - shared helpers for the hosted benchmarks (not part of the library).
 *
 * Timing: CLOCK_MONOTONIC, each figure reported as the median of L4MM_BENCH_REPS runs.
 * Instruction counts: run the benchmark as
 *     valgrind --tool=callgrind --collect-atstart=no --instr-atstart=yes ./bench_x --callgrind
 * and bracket the measured loop with BENCH_CG_START()/BENCH_CG_STOP(); callgrind then counts
 * only the loop, and the per-op figure is Ir / ops.
 */
#ifndef L4MM_BENCH_UTIL_H
#define L4MM_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_CG_START()    CALLGRIND_TOGGLE_COLLECT
#define BENCH_CG_STOP()     CALLGRIND_TOGGLE_COLLECT
#define BENCH_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef BENCH_CG_START
#define BENCH_CG_START()    ((void)0)
#define BENCH_CG_STOP()     ((void)0)
#define BENCH_ON_VALGRIND() 0
#endif

#define L4MM_BENCH_REPS 5

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a fixed-seed generator, identical across runs and machines. */
static inline uint64_t bench_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts v in place). */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return (n & 1) ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Value at quantile q (0..1) of n values (sorts v in place). */
static inline double bench_quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    size_t i = (size_t)(q * (double)(n - 1));
    return v[i];
}

/* Keeps the compiler from discarding a value. */
#define BENCH_KEEP(x) __asm__ volatile("" : : "g"(x) : "memory")

#endif /* L4MM_BENCH_UTIL_H */
