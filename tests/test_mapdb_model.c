/*
 * test_mapdb_model.c - randomized, model-based test of the mapping database: the model of
 * test_mapdb_model_ref.h / test_mapdb_model_ops.h (database vs. shadow page table vs.
 * reference tree, fault injection, interleaved budgeted unmaps) driven by a PRNG.
 * fuzz/fuzz_mapdb.c drives the same model from the fuzzer's bytes.
 */
#include "test_mapdb_model_ops.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static struct model g_model;

static void run_model(uint64_t seed, size_t nops)
{
    struct model *m = &g_model;
    memset(m, 0, sizeof *m);
    m->rng = seed;
    model_init(m);
    for (size_t i = 0; i < nops; i++)
        model_one(m);
    model_drain(m);
    if (getenv("L4MM_MODEL_STATS")) {
        static const char *const names[] = { "root",  "map",  "grant", "unmap",
                                             "start", "step", "find",  "gone" };
        for (unsigned w = 0; w < 8; w++) {
            printf("%-6s", names[w]);
            for (unsigned st = 0; st <= L4MM_ECORRUPT; st++)
                printf(" %s=%lu", l4mm_strerror((l4mm_status)st), m->stat[st][w]);
            printf("\n");
        }
        printf("max depth %u, max live %u, allocs %zu\n", m->maxdepth, m->maxlive, m->allocs);
    }
}

/* 3 * 10^5 operations; 10^5 under sanitizers (about 10x slower) to stay within the suite's
 * time budget; L4MM_MODEL_OPS overrides both. */
#if defined(__SANITIZE_ADDRESS__)
#define MODEL_DEFAULT_OPS 100000u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MODEL_DEFAULT_OPS 100000u
#endif
#endif
#ifndef MODEL_DEFAULT_OPS
#define MODEL_DEFAULT_OPS 300000u
#endif

static size_t model_ops(void)
{
    const char *e = getenv("L4MM_MODEL_OPS");
    return e ? (size_t)strtoull(e, NULL, 10) : MODEL_DEFAULT_OPS;
}

static void test_mapdb_model_random_ops_agree_with_reference(void **state)
{
    (void)state;
    size_t n = model_ops();
    for (uint64_t seed = 1; seed <= 4; seed++)
        run_model(seed * 0x9E3779B97F4A7C15ULL, n / 4u);
    assert_int_equal(g_model.allocs, g_model.frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapdb_model_random_ops_agree_with_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
