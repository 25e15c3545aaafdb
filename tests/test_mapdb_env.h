/*
 * test_mapdb_env.h - the environment the mapdb unit tests share: a counting node allocator
 * with fault injection and fake nodes, a log of `changed` reports, a setup that makes an
 * empty database and a teardown that unmaps everything and requires every node back.
 */
#ifndef L4MM_TEST_MAPDB_ENV_H
#define L4MM_TEST_MAPDB_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mapdb/mapdb_internal.h"

/* ---- environment: a counting allocator with fault injection, a change log ---------------- */

#define LOG_MAX 4096

struct change {
    l4mm_space_id space;
    l4mm_addr_t vaddr;
    unsigned order, old_rights, new_rights;
};

struct env {
    size_t allocs, frees;
    int fail_after; /* < 0: never fail; otherwise allocations left before failing */
    uintptr_t fake; /* non-zero: the next allocation returns this address (never used) */
    uintptr_t fake_given;
    size_t fakes_freed;
    size_t nlog;
    struct change log[LOG_MAX];
    struct l4mm_mapdb db;
};

static inline void *t_alloc(void *ctx)
{
    struct env *e = ctx;
    if (e->fail_after == 0)
        return NULL;
    if (e->fail_after > 0)
        e->fail_after--;
    if (e->fake) {
        void *p = (void *)e->fake;
        e->fake_given = e->fake;
        e->fake = 0;
        return p;
    }
    e->allocs++;
    return malloc(L4MM_MAPDB_NODE_SIZE);
}

static inline void t_free(void *ctx, void *node)
{
    struct env *e = ctx;
    if ((uintptr_t)node == e->fake_given) { /* a fake handed back */
        e->fake_given = 0;
        e->fakes_freed++;
        return;
    }
    e->frees++;
    memset(node, 0xa5, L4MM_MAPDB_NODE_SIZE);
    free(node);
}

static inline void t_changed(void *ctx, l4mm_space_id space, l4mm_addr_t vaddr, unsigned order,
                             unsigned old_rights, unsigned new_rights)
{
    struct env *e = ctx;
    assert_true(e->nlog < LOG_MAX);
    struct change c = { space, vaddr, order, old_rights, new_rights };
    e->log[e->nlog++] = c;
}

static inline struct env *env_new(void)
{
    struct env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->fail_after = -1;
    struct l4mm_mapdb_ops ops = { t_alloc, t_free, t_changed, e };
    assert_int_equal(l4mm_mapdb_init(&e->db, &ops), L4MM_OK);
    return e;
}

static inline int setup(void **state)
{
    *state = env_new();
    return 0;
}

static inline int teardown(void **state)
{
    struct env *e = *state;
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    /* unmap everything: every node must come back */
    while (e->db.head)
        assert_int_equal(l4mm_mapdb_unmap(&e->db, e->db.head, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    assert_int_equal(e->allocs, e->frees);
    free(e);
    return 0;
}

static inline const struct change *find_change(const struct env *e, l4mm_space_id s, l4mm_addr_t va)
{
    const struct change *found = NULL;
    for (size_t i = 0; i < e->nlog; i++) {
        if (e->log[i].space == s && e->log[i].vaddr == va) {
            assert_null(found); /* exactly once */
            found = &e->log[i];
        }
    }
    return found;
}

static inline struct l4mm_mapping_info info_of(const l4mm_mapping *m)
{
    struct l4mm_mapping_info i;
    memset(&i, 0, sizeof i);
    l4mm_mapdb_info(m, &i);
    return i;
}

#define KB4 12u
#define MB2 21u
#define GB1 30u
#define GB1 30u

static inline l4mm_mapping *mk_root(struct env *e, l4mm_space_id s, l4mm_addr_t va, l4mm_addr_t pa,
                                    unsigned order, unsigned rights)
{
    l4mm_mapping *r = NULL;
    assert_int_equal(l4mm_mapdb_root(&e->db, s, va, pa, order, rights, &r), L4MM_OK);
    return r;
}

static inline l4mm_mapping *mk_map(struct env *e, l4mm_mapping *from, l4mm_addr_t off,
                                   unsigned order, l4mm_space_id to, l4mm_addr_t va,
                                   unsigned rights)
{
    l4mm_mapping *c = NULL;
    assert_int_equal(l4mm_mapdb_map(&e->db, from, off, order, to, va, rights, &c), L4MM_OK);
    return c;
}

#endif /* L4MM_TEST_MAPDB_ENV_H */
