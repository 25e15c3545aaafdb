/*
 * Integration: mapping-database nodes (L4MM_MAPDB_NODE_SIZE) come from an l4mm_kcache over an
 * l4mm_kpool, as in the kernel. Build trees, grant, unmap (unbounded and budgeted, with maps
 * interleaved), run the pool dry, and verify that every node goes back to the cache and every
 * page back to the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <l4mm/kpool.h>
#include <l4mm/mapdb.h>

#define PS     4096u
#define NPAGES 64u

struct world {
    unsigned char *mem;
    struct l4mm_kpool pool;
    struct l4mm_kcache cache;
    struct l4mm_mapdb db;
    size_t allocs, frees, alloc_failures, changes, deletions;
};

static void *node_alloc(void *ctx)
{
    struct world *w = ctx;
    void *o;
    if (l4mm_kcache_alloc(&w->cache, &o) != L4MM_OK) {
        w->alloc_failures++;
        return NULL;
    }
    assert_int_equal((uintptr_t)o % 8, 0);
    w->allocs++;
    return o;
}

static void node_free(void *ctx, void *node)
{
    struct world *w = ctx;
    assert_int_equal(l4mm_kcache_free(&w->cache, node), L4MM_OK);
    w->frees++;
}

static void changed(void *ctx, l4mm_space_id space, l4mm_addr_t vaddr, unsigned order,
                    unsigned old_rights, unsigned new_rights)
{
    (void)space;
    (void)vaddr;
    (void)order;
    (void)old_rights;
    struct world *w = ctx;
    w->changes++;
    if (new_rights == 0)
        w->deletions++;
}

static struct world *world_new(size_t pages, size_t reserve, enum l4mm_kpool_class cls)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->mem = aligned_alloc(PS, (size_t)PS * NPAGES);
    assert_non_null(w->mem);
    const struct l4mm_kpool_config cfg = { PS, reserve, reserve, NPAGES };
    assert_int_equal(l4mm_kpool_init(&w->pool, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < pages; i++)
        assert_int_equal(l4mm_kpool_give(&w->pool, w->mem + i * PS), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&w->cache, &w->pool, L4MM_MAPDB_NODE_SIZE, cls), L4MM_OK);
    const struct l4mm_mapdb_ops ops = { node_alloc, node_free, changed, w };
    assert_int_equal(l4mm_mapdb_init(&w->db, &ops), L4MM_OK);
    return w;
}

static size_t pool_pages(const struct world *w)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&w->pool, &s);
    return s.pages;
}

static struct l4mm_kcache_stats cache_stats(const struct world *w)
{
    struct l4mm_kcache_stats s;
    l4mm_kcache_stats(&w->cache, &s);
    return s;
}

static void world_check(const struct world *w)
{
    assert_int_equal(l4mm_mapdb_check(&w->db), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&w->cache), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&w->pool), L4MM_OK);
    assert_int_equal(cache_stats(w).live, w->allocs - w->frees);
}

/* Everything came back: no live node, at most one kept page, and after shrink all pages. */
static void world_all_returned(struct world *w, size_t pages)
{
    world_check(w);
    assert_int_equal(w->allocs, w->frees);
    struct l4mm_kcache_stats s = cache_stats(w);
    assert_int_equal(s.live, 0);
    assert_true(s.pages <= 1);
    assert_int_equal(l4mm_kcache_shrink(&w->cache), L4MM_OK);
    assert_int_equal(cache_stats(w).pages, 0);
    assert_int_equal(pool_pages(w), pages);
    free(w->mem);
    free(w);
}

/* A root of 4 MiB held by sigma0 (space 1), fanned out to spaces 2.. at several depths. */
static l4mm_mapping *build_tree(struct world *w, size_t *count)
{
    l4mm_mapping *root;
    assert_int_equal(l4mm_mapdb_root(&w->db, 1, 0, 0, 22, L4MM_RWX, &root), L4MM_OK);
    *count = 1;
    l4mm_mapping *level[4] = { root, NULL, NULL, NULL };
    for (unsigned i = 0; i < 256; i++) { /* 256 children of 16 KiB */
        l4mm_mapping *c;
        assert_int_equal(l4mm_mapdb_map(&w->db, root, (l4mm_addr_t)i << 14, 14, 2 + i % 8,
                                        (l4mm_addr_t)i << 14, L4MM_RWX, &c),
                         L4MM_OK);
        (*count)++;
        level[1] = c;
        for (unsigned j = 0; j < 4; j++) { /* each mapped on as 4 KiB pages, one deeper */
            l4mm_mapping *g;
            assert_int_equal(l4mm_mapdb_map(&w->db, level[1], (l4mm_addr_t)j << 12, 12, 100 + j,
                                            (l4mm_addr_t)(i * 4 + j) << 12, L4MM_R | L4MM_W, &g),
                             L4MM_OK);
            (*count)++;
            level[2] = g;
            if (j == 0) {
                assert_int_equal(
                    l4mm_mapdb_map(&w->db, g, 0, 12, 200, (l4mm_addr_t)i << 12, L4MM_R, &level[3]),
                    L4MM_OK);
                (*count)++;
            }
        }
    }
    return root;
}

static void test_integ_mapdb_nodes_come_from_kcache_and_all_return_on_unmap(void **state)
{
    (void)state;
    struct world *w = world_new(NPAGES, 0, L4MM_KP_NORMAL);
    size_t count;
    l4mm_mapping *root = build_tree(w, &count);
    world_check(w);
    assert_int_equal(w->allocs, count);
    struct l4mm_kcache_stats s = cache_stats(w);
    assert_int_equal(s.live, count);
    size_t per = s.objs_per_page;
    assert_true(per >= 100); /* 24-byte nodes: ~160 per 4 KiB page */
    assert_int_equal(s.pages, (count + per - 1) / per);
    assert_int_equal(pool_pages(w), NPAGES - s.pages);
    /* revoke everything below the root, then the root itself */
    assert_int_equal(l4mm_mapdb_unmap(&w->db, root, L4MM_RWX, 0), L4MM_OK);
    assert_int_equal(w->frees, count - 1);
    assert_int_equal(w->deletions, count - 1);
    world_check(w);
    assert_int_equal(l4mm_mapdb_unmap(&w->db, root, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    world_all_returned(w, NPAGES);
}

static void test_integ_budgeted_unmap_with_interleaved_maps_returns_everything(void **state)
{
    (void)state;
    struct world *w = world_new(NPAGES, 0, L4MM_KP_NORMAL);
    size_t count;
    l4mm_mapping *root = build_tree(w, &count);
    struct l4mm_mapdb_op op;
    memset(&op, 0, sizeof op);
    assert_int_equal(l4mm_mapdb_unmap_start(&w->db, &op, root, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    l4mm_status st;
    unsigned steps = 0;
    while ((st = l4mm_mapdb_unmap_step(&w->db, &op, 7)) == L4MM_EAGAIN) {
        steps++;
        world_check(w);
        /* the kernel keeps mapping meanwhile: a fresh root elsewhere, and children of it */
        if (steps % 16 == 0) {
            l4mm_mapping *r, *c;
            l4mm_addr_t pa = (l4mm_addr_t)(64 + steps) << 22;
            assert_int_equal(l4mm_mapdb_root(&w->db, 1, pa, pa, 22, L4MM_RWX, &r), L4MM_OK);
            assert_int_equal(l4mm_mapdb_map(&w->db, r, 0, 12, 9, 0x1000, L4MM_R, &c), L4MM_OK);
            assert_int_equal(l4mm_mapdb_unmap(&w->db, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
        }
    }
    assert_int_equal(st, L4MM_OK);
    assert_true(steps > 100);
    world_all_returned(w, NPAGES);
}

static void test_integ_grant_moves_without_allocating(void **state)
{
    (void)state;
    struct world *w = world_new(4, 0, L4MM_KP_NORMAL);
    l4mm_mapping *root, *c, *g;
    assert_int_equal(l4mm_mapdb_root(&w->db, 1, 0, 0, 16, L4MM_RWX, &root), L4MM_OK);
    assert_int_equal(l4mm_mapdb_map(&w->db, root, 0, 12, 2, 0x5000, L4MM_RWX, &c), L4MM_OK);
    size_t before = w->allocs;
    assert_int_equal(l4mm_mapdb_grant(&w->db, c, 3, 0x9000, L4MM_RWX, &g), L4MM_OK);
    assert_int_equal(w->allocs, before);
    assert_int_equal(cache_stats(w).live, 2);
    world_check(w);
    assert_int_equal(l4mm_mapdb_unmap(&w->db, root, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    world_all_returned(w, 4);
}

static void test_integ_map_fails_cleanly_when_pool_is_dry(void **state)
{
    (void)state;
    /* 2 pages, reserve 1: a NORMAL cache gets one page (~160 nodes), then ENOMEM */
    struct world *w = world_new(2, 1, L4MM_KP_NORMAL);
    l4mm_mapping *root;
    assert_int_equal(l4mm_mapdb_root(&w->db, 1, 0, 0, 30, L4MM_RWX, &root), L4MM_OK);
    size_t per = cache_stats(w).objs_per_page, made = 1;
    l4mm_status st = L4MM_OK;
    for (unsigned i = 0; st == L4MM_OK; i++) {
        l4mm_mapping *c;
        st = l4mm_mapdb_map(&w->db, root, (l4mm_addr_t)i << 12, 12, 2, (l4mm_addr_t)i << 12, L4MM_R,
                            &c);
        made += st == L4MM_OK;
    }
    assert_int_equal(st, L4MM_ENOMEM);
    assert_int_equal(made, per);
    assert_int_equal(w->alloc_failures, 1);
    assert_int_equal(pool_pages(w), 1); /* the reserve was not touched */
    world_check(w);
    /* a CRITICAL cache may use the reserve page */
    struct l4mm_kcache crit;
    assert_int_equal(l4mm_kcache_init(&crit, &w->pool, L4MM_MAPDB_NODE_SIZE, L4MM_KP_CRITICAL),
                     L4MM_OK);
    void *o;
    assert_int_equal(l4mm_kcache_alloc(&crit, &o), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&crit, o), L4MM_OK);
    assert_int_equal(l4mm_kcache_shrink(&crit), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap(&w->db, root, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    world_all_returned(w, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integ_mapdb_nodes_come_from_kcache_and_all_return_on_unmap),
        cmocka_unit_test(test_integ_budgeted_unmap_with_interleaved_maps_returns_everything),
        cmocka_unit_test(test_integ_grant_moves_without_allocating),
        cmocka_unit_test(test_integ_map_fails_cleanly_when_pool_is_dry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
