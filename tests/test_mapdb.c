/*
 * test_mapdb.c - unit tests of the mapping database: every status of every function.
 */
#include "test_mapdb_env.h"

/* ---- init -------------------------------------------------------------------------------- */

static void test_mapdb_init_rejects_null_arguments(void **state)
{
    struct env *e = *state;
    struct l4mm_mapdb db;
    struct l4mm_mapdb_ops ops = { t_alloc, t_free, NULL, e };
    assert_int_equal(l4mm_mapdb_init(NULL, &ops), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_init(&db, NULL), L4MM_EINVAL);
    ops.node_alloc = NULL;
    assert_int_equal(l4mm_mapdb_init(&db, &ops), L4MM_EINVAL);
    ops.node_alloc = t_alloc;
    ops.node_free = NULL;
    assert_int_equal(l4mm_mapdb_init(&db, &ops), L4MM_EINVAL);
    ops.node_free = t_free;
    assert_int_equal(l4mm_mapdb_init(&db, &ops), L4MM_OK);
    assert_int_equal(l4mm_mapdb_check(&db), L4MM_OK);
}

static void test_mapdb_init_copies_ops(void **state)
{
    struct env *e = *state;
    struct l4mm_mapdb db;
    struct l4mm_mapdb_ops ops = { t_alloc, t_free, NULL, e };
    assert_int_equal(l4mm_mapdb_init(&db, &ops), L4MM_OK);
    memset(&ops, 0, sizeof ops); /* the database must not look at it again */
    l4mm_mapping *r = NULL;
    assert_int_equal(l4mm_mapdb_root(&db, 1, 0, 0, KB4, L4MM_RWX, &r), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap(&db, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->allocs, e->frees);
    assert_int_equal(l4mm_mapdb_check(&db), L4MM_OK);
}

static void test_mapdb_node_size_is_at_most_24(void **state)
{
    (void)state;
    char fits[L4MM_MAPDB_NODE_SIZE <= 24 ? 1 : -1]; /* a constant expression */
    assert_int_equal(sizeof fits, 1);
    assert_int_equal(sizeof(struct l4mm_mapping), L4MM_MAPDB_NODE_SIZE);
}

/* ---- root -------------------------------------------------------------------------------- */

static void test_mapdb_root_returns_depth0_info(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 7, 0x40000000, 0x80000000, GB1, L4MM_R | L4MM_W);
    struct l4mm_mapping_info i = info_of(r);
    assert_int_equal(i.space, 7);
    assert_true(i.vaddr == 0x40000000);
    assert_true(i.paddr == 0x80000000);
    assert_int_equal(i.order, GB1);
    assert_int_equal(i.rights, L4MM_R | L4MM_W);
    assert_int_equal(i.depth, 0);
    assert_int_equal(e->allocs, 1);
    assert_int_equal(e->nlog, 0);
}

static void test_mapdb_root_is_idempotent_and_allocates_nothing(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r1 = mk_root(e, 1, 0x1000, 0x2000, KB4, L4MM_RWX);
    l4mm_mapping *r2 = mk_root(e, 1, 0x1000, 0x2000, KB4, L4MM_R);
    assert_ptr_equal(r1, r2);
    assert_int_equal(e->allocs, 1);
    assert_int_equal(info_of(r1).rights, L4MM_RWX);
}

static void test_mapdb_root_overlap_returns_ebusy(void **state)
{
    struct env *e = *state;
    mk_root(e, 1, 0x200000, 0x200000, MB2, L4MM_RWX);
    l4mm_mapping *o = NULL;
    /* contained, containing, same range other holder, other vaddr */
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0x201000, KB4, L4MM_RWX, &o), L4MM_EBUSY);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, GB1, L4MM_RWX, &o), L4MM_EBUSY);
    assert_int_equal(l4mm_mapdb_root(&e->db, 2, 0x200000, 0x200000, MB2, 7, &o), L4MM_EBUSY);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0x400000, 0x200000, MB2, 7, &o), L4MM_EBUSY);
    assert_null(o);
    assert_int_equal(e->allocs, 1);
    /* adjacent ranges do not overlap */
    mk_root(e, 1, 0, 0x400000, MB2, L4MM_RWX);
    mk_root(e, 1, 0, 0x1ff000, KB4, L4MM_RWX);
}

static void test_mapdb_root_rejects_bad_arguments(void **state)
{
    struct env *e = *state;
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_root(NULL, 1, 0, 0, KB4, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, KB4, 7, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0x800, 0, KB4, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0x800, KB4, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, 64, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, KB4, 0, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, KB4, 8, &o), L4MM_EINVAL);
    /* beyond what a node can encode */
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, UINT64_C(1) << 52, 0, KB4, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, UINT64_C(1) << 50, KB4, 7, &o), L4MM_EINVAL);
    assert_null(o);
    assert_int_equal(e->allocs, 0);
}

static void test_mapdb_root_accepts_top_of_address_space(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, UINT64_C(1) << 63, UINT64_C(1) << 63, 63, L4MM_RWX);
    struct l4mm_mapping_info i = info_of(r);
    assert_true(i.paddr == UINT64_C(1) << 63 && i.vaddr == UINT64_C(1) << 63);
    l4mm_mapping *c = mk_map(e, r, (UINT64_C(1) << 63) - (UINT64_C(1) << 40), 40, 2, 0, 7);
    assert_true(info_of(c).paddr == UINT64_MAX - (UINT64_C(1) << 40) + 1u);
    l4mm_mapping *f = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, UINT64_MAX, 2, &f), L4MM_OK);
    assert_ptr_equal(f, c);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_root(&e->db, 3, 0, UINT64_MAX & ~UINT64_C(0x3fffffff), GB1, 7, &o),
                     L4MM_EBUSY);
    /* a 4 KiB page up there cannot be encoded (paddr >> 12 >= 2^38) */
    assert_int_equal(l4mm_mapdb_root(&e->db, 3, 0, UINT64_MAX & ~UINT64_C(0xfff), KB4, 7, &o),
                     L4MM_EINVAL);
}

static void test_mapdb_root_enomem_changes_nothing(void **state)
{
    struct env *e = *state;
    e->fail_after = 0;
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_root(&e->db, 1, 0, 0, KB4, 7, &o), L4MM_ENOMEM);
    assert_null(o);
    assert_null(e->db.head);
    e->fail_after = -1;
    mk_root(e, 1, 0, 0, KB4, 7);
}

static void test_mapdb_node_outside_window_or_misaligned_returns_enomem(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *o = NULL;
    if (sizeof(uintptr_t) == 8) {
        e->fake = (uintptr_t)r + ((uintptr_t)1 << 36); /* 64 GiB away: outside the window */
        assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 7, &o), L4MM_ENOMEM);
        assert_int_equal(e->fakes_freed, 1);
    }
    e->fake = (uintptr_t)r + 4u; /* not 8-byte aligned */
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 7, &o), L4MM_ENOMEM);
    assert_int_equal(e->fakes_freed, sizeof(uintptr_t) == 8 ? 2 : 1);
    assert_null(o);
    assert_int_equal(e->db.nodes, 1);
    assert_int_equal(e->nlog, 0);
}

/* ---- map --------------------------------------------------------------------------------- */

static void test_mapdb_map_intersects_rights_and_sets_depth(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0x40000000, GB1, L4MM_R | L4MM_X);
    l4mm_mapping *c = mk_map(e, r, 0x200000, MB2, 2, 0x600000, L4MM_RWX);
    struct l4mm_mapping_info i = info_of(c);
    assert_int_equal(i.rights, L4MM_R | L4MM_X); /* never more than the parent */
    assert_int_equal(i.depth, 1);
    assert_true(i.paddr == 0x40200000);
    assert_true(i.vaddr == 0x600000);
    assert_int_equal(i.order, MB2);
    assert_int_equal(i.space, 2);
    l4mm_mapping *g = mk_map(e, c, 0x3000, KB4, 3, 0x7000, L4MM_R);
    i = info_of(g);
    assert_int_equal(i.depth, 2);
    assert_true(i.paddr == 0x40203000);
    assert_int_equal(i.rights, L4MM_R);
    assert_int_equal(e->nlog, 0); /* new mappings are never reported */
}

static void test_mapdb_map_same_size_child(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0x1000, 0x5000, KB4, L4MM_RWX);
    l4mm_mapping *c = mk_map(e, r, 0, KB4, 2, 0x9000, L4MM_W);
    assert_true(info_of(c).paddr == 0x5000);
}

static void test_mapdb_map_empty_rights_returns_eperm(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_R);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, L4MM_W | L4MM_X, &o), L4MM_EPERM);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 0, &o), L4MM_EPERM);
    assert_null(o);
    assert_int_equal(e->allocs, 1);
}

static void test_mapdb_map_rejects_bad_arguments(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0x200000, MB2, L4MM_RWX);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_map(NULL, r, 0, KB4, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, NULL, 0, KB4, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 7, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, GB1, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0x800, KB4, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0x200000, KB4, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, UINT64_MAX & ~UINT64_C(0xfff), KB4, 2, 0, 7, &o),
                     L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0x10, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 8, &o), L4MM_EINVAL);
    /* EINVAL comes before EPERM */
    l4mm_mapping *ro = mk_map(e, r, 0, KB4, 2, 0, L4MM_R);
    assert_int_equal(l4mm_mapdb_map(&e->db, ro, 0, KB4, 3, 0x10, L4MM_W, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, UINT64_C(1) << 52, 7, &o), L4MM_EINVAL);
    assert_null(o);
    assert_int_equal(e->allocs, 2);
}

static void test_mapdb_map_enomem_changes_nothing(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    e->fail_after = 0;
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_map(&e->db, r, 0, KB4, 2, 0, 7, &o), L4MM_ENOMEM);
    assert_null(o);
    assert_int_equal(e->db.nodes, 1);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    e->fail_after = -1;
}

static void test_mapdb_map_depth_limit_returns_einval_never_wraps(void **state)
{
    struct env *e = *state;
    l4mm_mapping *n = mk_root(e, 0, 0, 0, KB4, L4MM_RWX);
    for (unsigned d = 1; d <= L4MM_MAPDB_MAX_DEPTH; d++) {
        n = mk_map(e, n, 0, KB4, d, (l4mm_addr_t)d << KB4, L4MM_RWX);
        assert_int_equal(info_of(n).depth, d);
    }
    assert_int_equal(info_of(n).depth, 255);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_map(&e->db, n, 0, KB4, 999, 0, L4MM_RWX, &o), L4MM_EINVAL);
    assert_null(o);
    assert_int_equal(e->db.nodes, 256);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    /* unmapping the whole chain deletes the deepest first */
    l4mm_mapping *r = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0, 0, &r), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->nlog, 256);
    for (size_t i = 0; i < 256; i++) {
        assert_int_equal(e->log[i].space, 255 - i);
        assert_int_equal(e->log[i].new_rights, 0);
    }
    assert_int_equal(e->allocs, e->frees);
}

/* ---- grant ------------------------------------------------------------------------------- */

static void test_mapdb_grant_moves_mapping_and_keeps_children(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, MB2, 2, 0x200000, L4MM_R | L4MM_W);
    l4mm_mapping *c = mk_map(e, m, 0x1000, KB4, 3, 0x5000, L4MM_R);
    l4mm_mapping *g = NULL;
    assert_int_equal(l4mm_mapdb_grant(&e->db, m, 4, 0x400000, L4MM_RWX, &g), L4MM_OK);
    struct l4mm_mapping_info i = info_of(g);
    assert_int_equal(i.space, 4);
    assert_true(i.vaddr == 0x400000);
    assert_int_equal(i.rights, L4MM_R | L4MM_W);
    assert_int_equal(i.depth, 1);
    assert_true(i.paddr == 0);
    assert_int_equal(e->nlog, 1);
    const struct change *ch = find_change(e, 2, 0x200000);
    assert_non_null(ch);
    assert_int_equal(ch->old_rights, L4MM_R | L4MM_W);
    assert_int_equal(ch->new_rights, 0);
    assert_int_equal(info_of(c).depth, 2); /* child kept */
    l4mm_mapping *f = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x1000, 4, &f), L4MM_OK);
    assert_ptr_equal(f, g);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x1000, 2, &f), L4MM_ENOENT);
    assert_int_equal(e->allocs, 3);
}

static void test_mapdb_grant_reduced_rights_reduce_subtree(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, MB2, 2, 0, L4MM_RWX);
    mk_map(e, m, 0, KB4, 3, 0x1000, L4MM_W);                                  /* loses everything */
    l4mm_mapping *rw = mk_map(e, m, 0x1000, KB4, 4, 0x2000, L4MM_R | L4MM_W); /* keeps R */
    l4mm_mapping *rr = mk_map(e, m, 0x2000, KB4, 5, 0x3000, L4MM_R);          /* unchanged */
    l4mm_mapping *g = NULL;
    assert_int_equal(l4mm_mapdb_grant(&e->db, m, 6, 0, L4MM_R | L4MM_X, &g), L4MM_OK);
    assert_int_equal(info_of(g).rights, L4MM_R | L4MM_X);
    assert_int_equal(info_of(rw).rights, L4MM_R);
    assert_int_equal(info_of(rr).rights, L4MM_R);
    assert_int_equal(e->nlog, 3);
    assert_int_equal(find_change(e, 3, 0x1000)->new_rights, 0);
    assert_int_equal(find_change(e, 4, 0x2000)->new_rights, L4MM_R);
    assert_null(find_change(e, 5, 0x3000));
    assert_int_equal(find_change(e, 2, 0)->new_rights, 0);
    assert_int_equal(e->frees, 1);
}

static void test_mapdb_grant_rejects_bad_arguments_and_eperm(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_R);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_grant(NULL, r, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, NULL, 2, 0, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, r, 2, 0, 7, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, r, 2, 0x1000, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, r, 2, 0, 8, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, r, 2, UINT64_C(1) << 61, 7, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_grant(&e->db, r, 2, 0, L4MM_W, &o), L4MM_EPERM);
    assert_null(o);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(info_of(r).space, 1);
}

static void test_mapdb_grant_target_of_running_unmap_returns_ebusy(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, MB2, 2, 0, L4MM_RWX);
    l4mm_mapping *c = mk_map(e, m, 0, KB4, 3, 0, L4MM_RWX);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_W, 0), L4MM_OK);
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_grant(&e->db, m, 9, 0, 7, &o), L4MM_EBUSY);
    assert_null(o);
    /* a node inside the subtree may be granted */
    assert_int_equal(l4mm_mapdb_grant(&e->db, c, 9, 0, 7, &o), L4MM_OK);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_status s;
    while ((s = l4mm_mapdb_unmap_step(&e->db, &op, 1)) == L4MM_EAGAIN)
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(info_of(o).rights, L4MM_R | L4MM_X);
    assert_int_equal(l4mm_mapdb_grant(&e->db, m, 9, 0x200000, 7, &o), L4MM_OK);
}

/* ---- find, info, check ------------------------------------------------------------------- */

static void test_mapdb_find_returns_covering_mapping_or_enoent(void **state)
{
    struct env *e = *state;
    l4mm_mapping *o = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0, 1, &o), L4MM_ENOENT);
    l4mm_mapping *r = mk_root(e, 1, 0, 0x200000, MB2, L4MM_RWX);
    l4mm_mapping *c = mk_map(e, r, 0x5000, KB4, 2, 0x9000, L4MM_R);
    assert_int_equal(l4mm_mapdb_find(NULL, 0, 1, &o), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0, 1, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x205fff, 2, &o), L4MM_OK);
    assert_ptr_equal(o, c);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x3fffff, 1, &o), L4MM_OK);
    assert_ptr_equal(o, r);
    o = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x206000, 2, &o), L4MM_ENOENT);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x400000, 1, &o), L4MM_ENOENT);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x205000, 3, &o), L4MM_ENOENT);
    assert_null(o);
}

static void test_mapdb_info_tolerates_null(void **state)
{
    struct env *e = *state;
    struct l4mm_mapping_info i;
    memset(&i, 0x5a, sizeof i);
    l4mm_mapdb_info(NULL, &i);
    assert_int_equal(i.order, 0x5a5a5a5a);
    l4mm_mapping *r = mk_root(e, 1, 0, 0, KB4, L4MM_RWX);
    l4mm_mapdb_info(r, NULL);
}

/* The "unknown node" rule: a handle that is not a node of this database is refused and
 * nothing changes - another database's node, a forged zeroed node, a byte-copy of a real
 * node (its neighbours do not link back to it), and a pointer off the 8-byte grid. */
static void test_mapdb_foreign_or_forged_handle_returns_enoent(void **state)
{
    struct env *e = *state;
    struct env *f = env_new();
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *c = mk_map(e, r, 0, KB4, 2, 0x1000, L4MM_RWX);
    l4mm_mapping *fr = mk_root(f, 1, 0, 0x40000000u, MB2, L4MM_RWX);
    l4mm_mapping *fc = mk_map(f, fr, 0, KB4, 3, 0x2000, L4MM_RWX);

    _Alignas(8) unsigned char zero[L4MM_MAPDB_NODE_SIZE];
    _Alignas(8) unsigned char copy[L4MM_MAPDB_NODE_SIZE];
    memset(zero, 0, sizeof zero);
    memcpy(copy, c, sizeof copy);
    l4mm_mapping *bad[] = { fr, fc, (l4mm_mapping *)(void *)zero, (l4mm_mapping *)(void *)copy,
                            (l4mm_mapping *)(void *)((unsigned char *)c + 8) };
    size_t allocs = e->allocs, nodes = e->db.nodes;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        l4mm_mapping *out = NULL;
        struct l4mm_mapdb_op op;
        assert_int_equal(l4mm_mapdb_map(&e->db, bad[i], 0, KB4, 4, 0, L4MM_R, &out), L4MM_ENOENT);
        assert_int_equal(l4mm_mapdb_grant(&e->db, bad[i], 4, 0, L4MM_R, &out), L4MM_ENOENT);
        assert_int_equal(l4mm_mapdb_unmap(&e->db, bad[i], L4MM_RWX, L4MM_UNMAP_SELF), L4MM_ENOENT);
        assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, bad[i], L4MM_RWX, 0), L4MM_EINVAL);
        assert_null(out);
    }
    /* an argument error that does not depend on the node still comes first */
    l4mm_mapping *out = NULL;
    assert_int_equal(l4mm_mapdb_map(&e->db, fc, 0, KB4, 4, 0, 8u, &out), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, fc, L4MM_RWX, 2u), L4MM_EINVAL);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(f->nlog, 0);
    assert_int_equal(e->allocs, allocs);
    assert_int_equal(e->db.nodes, nodes);
    assert_int_equal(l4mm_mapdb_check(&f->db), L4MM_OK);
    /* the real handles still work */
    assert_int_equal(l4mm_mapdb_unmap(&e->db, c, L4MM_W, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap(&f->db, fr, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(f->allocs, f->frees);
    assert_int_equal(l4mm_mapdb_check(&f->db), L4MM_OK);
    free(f);
}

static void test_mapdb_check_detects_corruption(void **state)
{
    struct env *e = *state;
    assert_int_equal(l4mm_mapdb_check(NULL), L4MM_EINVAL);
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_R | L4MM_W);
    l4mm_mapping *a = mk_map(e, r, 0x1000, KB4, 2, 0, L4MM_R);
    l4mm_mapping *b = mk_map(e, r, 0x2000, KB4, 3, 0, L4MM_R);
    l4mm_mapping *r2 = mk_root(e, 4, 0, 0x400000, MB2, L4MM_RWX);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_mapping saved;

#define CORRUPT(node, stmt)                                                                        \
    do {                                                                                           \
        saved = *(node);                                                                           \
        stmt;                                                                                      \
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);                                 \
        *(node) = saved;                                                                           \
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);                                       \
    } while (0)

    CORRUPT(a, mdb_set_rights(a, L4MM_RWX));                       /* more than the parent */
    CORRUPT(a, mdb_set_rights(a, 0));                              /* no rights */
    CORRUPT(a, a->meta += 1u << MDB_DEPTH_SHIFT);                  /* depth jump */
    CORRUPT(a, a->meta = (a->meta & ~MDB_ORDER_MASK) | 25u);       /* bigger than parent */
    CORRUPT(a, a->addr += UINT64_C(0x400) << L4MM_MAPDB_VPN_BITS); /* outside parent */
    CORRUPT(a, a->next = 0);                                       /* broken link */
    CORRUPT(a, a->next = UINT32_MAX);                              /* link to foreign memory */
    CORRUPT(b, b->prev = a->prev);                                 /* prev/next disagree */
    CORRUPT(r2, r2->addr &= MDB_VPN_MASK);                         /* overlaps r */
    CORRUPT(r, r->meta += 1u << MDB_DEPTH_SHIFT);                  /* head not a root */
    memset(&saved, 0, sizeof saved);
    e->db.nodes++;
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    e->db.nodes--;
    size_t keep_nodes = e->db.nodes;
    e->db.nodes = SIZE_MAX; /* must not make the walk unbounded */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    e->db.nodes = keep_nodes;
    /* a cycle that skips nodes */
    uint32_t keep = a->next;
    a->next = mdb_index(&e->db, r);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    a->next = keep;
    /* a garbage node */
    saved = *b;
    memset(b, 0xff, sizeof *b);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    *b = saved;
    /* a registered operation whose target lost its mark */
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, a, L4MM_R, 0), L4MM_OK);
    a->meta &= ~MDB_OPREF;
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    a->meta |= MDB_OPREF;
    e->db.nactive++;
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    e->db.nactive--;
    op.phase = 9; /* no such phase */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    op.phase = MDB_OP_START;
    op.first = a; /* a pass cannot have begun before the first step */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    op.first = NULL;
    op.pend = b; /* points at a node without the OPREF mark */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    op.pend = NULL;
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 100), L4MM_OK);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mapdb_init_rejects_null_arguments),
        T(test_mapdb_init_copies_ops),
        T(test_mapdb_node_size_is_at_most_24),
        T(test_mapdb_root_returns_depth0_info),
        T(test_mapdb_root_is_idempotent_and_allocates_nothing),
        T(test_mapdb_root_overlap_returns_ebusy),
        T(test_mapdb_root_rejects_bad_arguments),
        T(test_mapdb_root_accepts_top_of_address_space),
        T(test_mapdb_root_enomem_changes_nothing),
        T(test_mapdb_node_outside_window_or_misaligned_returns_enomem),
        T(test_mapdb_map_intersects_rights_and_sets_depth),
        T(test_mapdb_map_same_size_child),
        T(test_mapdb_map_empty_rights_returns_eperm),
        T(test_mapdb_map_rejects_bad_arguments),
        T(test_mapdb_map_enomem_changes_nothing),
        T(test_mapdb_map_depth_limit_returns_einval_never_wraps),
        T(test_mapdb_grant_moves_mapping_and_keeps_children),
        T(test_mapdb_grant_reduced_rights_reduce_subtree),
        T(test_mapdb_grant_rejects_bad_arguments_and_eperm),
        T(test_mapdb_grant_target_of_running_unmap_returns_ebusy),
        T(test_mapdb_find_returns_covering_mapping_or_enoent),
        T(test_mapdb_info_tolerates_null),
        T(test_mapdb_foreign_or_forged_handle_returns_enoent),
        T(test_mapdb_check_detects_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
