/*
 * bench_mapdb.c - mapping database: map and unmap cost per node on trees of ~10^6 nodes.
 *
 * Shapes: "chain"  - one root with chains of depth 255 hanging from it, repeated;
 *         "fanout" - one root with 10^6 leaves;
 *         "random" - each new node's parent chosen uniformly among the nodes so far.
 * For each shape: ns/node to build it with map, to unmap it all unbounded
 * (l4mm_mapdb_unmap(root, RWX, SELF)), and to unmap it all budgeted (unmap_start +
 * unmap_step(64) until OK); also a reduce-only unmap (W removed, nothing deleted) both ways.
 * Medians of L4MM_BENCH_REPS runs of thread CPU time. Nodes come from a preallocated pool (a bump
 * allocator with a free list), as a kernel's slab would give them.
 *
 * The memory floor: in the same run, a pure dependent pointer chase over g_n 24-byte records of
 * the same pool memory, in one random cyclic order (each record visited once), in ns/record.
 * That is what any walk that visits the nodes in an order unrelated to their addresses pays at
 * least per visit (one dependent cache + TLB miss); each unmap column is also printed as a
 * multiple of it ("x floor").
 *
 * Pages: by default the pool is 2 MiB aligned and madvise(MADV_HUGEPAGE)d, as a kernel's
 * direct map with large pages would back its node slabs (with transparent huge pages in
 * "madvise" or "always" mode the pool then sits on 2 MiB pages). Argument --small-pages or
 * L4MM_BENCH_SMALL_PAGES=1 in the environment keeps 4 KiB pages.
 *
 * Run: build with -DCMAKE_BUILD_TYPE=Release -DL4MM_BUILD_BENCH=ON, then
 *      ./bench_mapdb [nodes] [--small-pages]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>

#include "bench_util.h"
#include <l4mm/mapdb.h>

static uint32_t g_n = 1000000u; /* argv[1] overrides (e.g. smaller, under callgrind) */

/* CPU time of this thread: the machine is shared, so wall time would count other work. */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct pool {
    unsigned char *mem;
    size_t used, cap;
    void *free;
    size_t changes;
};

static void *p_alloc(void *ctx)
{
    struct pool *p = ctx;
    if (p->free) {
        void *n = p->free;
        memcpy(&p->free, n, sizeof p->free);
        return n;
    }
    if (p->used == p->cap)
        return NULL;
    return p->mem + L4MM_MAPDB_NODE_SIZE * p->used++;
}

static void p_free(void *ctx, void *node)
{
    struct pool *p = ctx;
    memcpy(node, &p->free, sizeof p->free);
    p->free = node;
}

static void p_changed(void *ctx, l4mm_space_id s, l4mm_addr_t va, unsigned o, unsigned a,
                      unsigned b)
{
    struct pool *p = ctx;
    (void)s, (void)va, (void)o, (void)a, (void)b;
    p->changes++;
}

static struct pool g_pool;
static l4mm_mapping **g_nodes;

static void die(const char *what, l4mm_status s)
{
    fprintf(stderr, "bench_mapdb: %s: %s\n", what, l4mm_strerror(s));
    exit(1);
}

/* Builds the shape; returns the root. */
static l4mm_mapping *build(struct l4mm_mapdb *db, int shape, uint64_t *rng)
{
    l4mm_mapping *root;
    l4mm_status s = l4mm_mapdb_root(db, 0, 0, 0, 12, L4MM_RWX, &root);
    if (s != L4MM_OK)
        die("root", s);
    g_nodes[0] = root;
    for (uint32_t i = 1; i < g_n; i++) {
        l4mm_mapping *from;
        if (shape == 0) /* chain: restart at the root after 255 levels */
            from = (i - 1u) % 255u == 0 ? root : g_nodes[i - 1u];
        else if (shape == 1)
            from = root;
        else
            from = g_nodes[bench_rand(rng) % i];
        s = l4mm_mapdb_map(db, from, 0, 12, i, (l4mm_addr_t)i << 12, L4MM_RWX, &g_nodes[i]);
        if (s != L4MM_OK)
            die("map", s);
    }
    return root;
}

static void fresh(struct l4mm_mapdb *db)
{
    g_pool.used = 0;
    g_pool.free = NULL;
    g_pool.changes = 0;
    struct l4mm_mapdb_ops ops = { p_alloc, p_free, p_changed, &g_pool };
    if (l4mm_mapdb_init(db, &ops) != L4MM_OK)
        die("init", L4MM_EINVAL);
}

/* The memory floor: ns per record of a dependent chase over n records of the pool memory
 * (24 bytes apart) in one random cycle (Sattolo's shuffle), each record visited once. */
static double chase_floor(uint32_t n, uint64_t seed)
{
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        die("floor", L4MM_ENOMEM);
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n - 1u; i > 0; i--) { /* j < i: one cycle through all records */
        uint32_t j = (uint32_t)(bench_rand(&seed) % i), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (uint32_t i = 0; i < n; i++) { /* record i points to record perm[i] */
        void *to = g_pool.mem + (size_t)L4MM_MAPDB_NODE_SIZE * perm[i];
        memcpy(g_pool.mem + (size_t)L4MM_MAPDB_NODE_SIZE * i, &to, sizeof to);
    }
    free(perm);
    void *p = g_pool.mem;
    uint64_t t0 = cpu_ns();
    for (uint32_t i = 0; i < n; i++)
        memcpy(&p, p, sizeof p);
    uint64_t t1 = cpu_ns();
    BENCH_KEEP(p);
    if (p != (void *)g_pool.mem)
        die("floor cycle", L4MM_ECORRUPT);
    return (double)(t1 - t0) / n;
}

/* The pool: 2 MiB aligned and madvise(MADV_HUGEPAGE)d unless small pages are asked for. */
static unsigned char *pool_mem(size_t bytes, int huge, int *got_huge)
{
    const size_t align = (size_t)2 << 20;
    size_t len = (bytes + align - 1u) / align * align;
    unsigned char *raw =
        mmap(NULL, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    unsigned char *mem = raw + (align - (uintptr_t)raw % align) % align;
    *got_huge = 0;
    if (huge)
        *got_huge = madvise(mem, len, MADV_HUGEPAGE) == 0;
    else
        (void)madvise(mem, len, MADV_NOHUGEPAGE);
    return mem;
}

static void budgeted(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights, unsigned flags)
{
    struct l4mm_mapdb_op op;
    l4mm_status s = l4mm_mapdb_unmap_start(db, &op, m, rights, flags);
    if (s != L4MM_OK)
        die("unmap_start", s);
    while ((s = l4mm_mapdb_unmap_step(db, &op, 64)) == L4MM_EAGAIN)
        ;
    if (s != L4MM_OK)
        die("unmap_step", s);
}

int main(int argc, char **argv)
{
    int huge = 1, got_huge = 0;
    const char *env = getenv("L4MM_BENCH_SMALL_PAGES");
    if (env && env[0] == '1')
        huge = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--small-pages") == 0)
            huge = 0;
        else
            g_n = (uint32_t)strtoul(argv[a], NULL, 10);
    }
    if (g_n < 2u)
        return 1;
    static const char *const names[] = { "chain255", "fanout", "random" };
    g_pool.cap = g_n + 16u;
    g_pool.mem = pool_mem(g_pool.cap * L4MM_MAPDB_NODE_SIZE, huge, &got_huge);
    g_nodes = malloc((size_t)g_n * sizeof *g_nodes);
    if (!g_pool.mem || !g_nodes)
        return 1;
    printf("bench_mapdb: %u nodes per tree, node %u bytes (+%zu bytes per database), "
           "median of %d runs, pool on %s pages\n",
           g_n, L4MM_MAPDB_NODE_SIZE, sizeof(struct l4mm_mapdb), L4MM_BENCH_REPS,
           got_huge ? "2 MiB (MADV_HUGEPAGE)"
           : huge   ? "4 KiB (madvise refused)"
                    : "4 KiB");
    double fl[L4MM_BENCH_REPS];
    for (int rep = 0; rep < L4MM_BENCH_REPS; rep++)
        fl[rep] = chase_floor(g_n, 7u + (uint64_t)rep);
    double floor_ns = bench_median(fl, L4MM_BENCH_REPS);
    printf("memory floor: dependent chase over %u records of the pool in random order: "
           "%.1f ns/record\n",
           g_n, floor_ns);
    printf("%-9s %8s %10s %10s %9s %10s %10s %9s %8s %8s\n", "shape", "map", "unmap", "unmap/64",
           "overhead", "reduce", "reduce/64", "overhead", "x floor", "x floor");
    for (int shape = 0; shape < 3; shape++) {
        double t[6][L4MM_BENCH_REPS] = { { 0 } };
        for (int rep = 0; rep < L4MM_BENCH_REPS; rep++) {
            struct l4mm_mapdb db;
            for (int kind = 0; kind < 2; kind++) { /* 0 unbounded, 1 budgeted */
                uint64_t rng = 42;
                fresh(&db);
                uint64_t t0 = cpu_ns();
                l4mm_mapping *root = build(&db, shape, &rng);
                uint64_t t1 = cpu_ns();
                /* reduce only: W from everything below the root, nothing deleted */
                if (kind == 0)
                    l4mm_mapdb_unmap(&db, root, L4MM_W, 0);
                else
                    budgeted(&db, root, L4MM_W, 0);
                uint64_t t2 = cpu_ns();
                if (g_pool.changes != g_n - 1u)
                    die("reduce count", L4MM_ECORRUPT);
                if (kind == 0)
                    l4mm_mapdb_unmap(&db, root, L4MM_RWX, L4MM_UNMAP_SELF);
                else
                    budgeted(&db, root, L4MM_RWX, L4MM_UNMAP_SELF);
                uint64_t t3 = cpu_ns();
                if (l4mm_mapdb_check(&db) != L4MM_OK || g_pool.changes != 2u * g_n - 1u)
                    die("unmap result", L4MM_ECORRUPT);
                if (kind == 0)
                    t[0][rep] = (double)(t1 - t0) / g_n;
                t[1 + kind][rep] = (double)(t3 - t2) / g_n;
                t[3 + kind][rep] = (double)(t2 - t1) / g_n;
            }
        }
        double map = bench_median(t[0], L4MM_BENCH_REPS);
        double un = bench_median(t[1], L4MM_BENCH_REPS), ub = bench_median(t[2], L4MM_BENCH_REPS);
        double rn = bench_median(t[3], L4MM_BENCH_REPS), rb = bench_median(t[4], L4MM_BENCH_REPS);
        printf("%-9s %6.1fns %8.1fns %8.1fns %8.1f%% %8.1fns %8.1fns %8.1f%% %7.2fx %7.2fx\n",
               names[shape], map, un, ub, 100.0 * (ub / un - 1.0), rn, rb, 100.0 * (rb / rn - 1.0),
               un / floor_ns, ub / floor_ns);
    }
    printf("(x floor: unmap and unmap/64 per node divided by the memory floor per record)\n");
    free(g_nodes);
    return 0;
}
