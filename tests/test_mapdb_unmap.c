/*
 * test_mapdb_unmap.c - unit tests of unmap and budgeted unmap (start/step), every status; the
 * node-leak check. The environment is test_mapdb_env.h.
 */
#include "test_mapdb_env.h"

static size_t change_pos(const struct env *e, l4mm_space_id s, l4mm_addr_t va)
{
    for (size_t i = 0; i < e->nlog; i++)
        if (e->log[i].space == s && e->log[i].vaddr == va)
            return i;
    fail();
    return 0;
}

/* Position of the report that deleted (space, va). */
static size_t gone_pos(const struct env *e, l4mm_space_id s, l4mm_addr_t va)
{
    for (size_t i = 0; i < e->nlog; i++)
        if (e->log[i].space == s && e->log[i].vaddr == va && e->log[i].new_rights == 0)
            return i;
    fail();
    return 0;
}

/* ---- unmap ------------------------------------------------------------------------------- */

static void test_mapdb_unmap_rights_zero_does_nothing(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    mk_map(e, r, 0, KB4, 2, 0, L4MM_RWX);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, 0, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(e->db.nodes, 2);
}

static void test_mapdb_unmap_rejects_bad_arguments(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    mk_map(e, r, 0, KB4, 2, 0, L4MM_RWX);
    assert_int_equal(l4mm_mapdb_unmap(NULL, r, 7, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, NULL, 7, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, 8, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, 7, 2), L4MM_EINVAL);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(e->db.nodes, 2);
}

static void test_mapdb_unmap_removes_rights_recursively_bottom_up(void **state)
{
    struct env *e = *state;
    /*      r(1)
     *      /   \
     *    a(2)   d(5)
     *    /  \
     *  b(3)  c(4)
     */
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *a = mk_map(e, r, 0, MB2, 2, 0, L4MM_RWX);
    mk_map(e, a, 0, KB4, 3, 0, L4MM_W);
    l4mm_mapping *c = mk_map(e, a, 0x1000, KB4, 4, 0, L4MM_R | L4MM_W);
    l4mm_mapping *d = mk_map(e, r, 0x200000, MB2, 5, 0, L4MM_RWX);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, a, L4MM_W, 0), L4MM_OK);
    assert_int_equal(info_of(a).rights, L4MM_RWX); /* without SELF, a itself keeps its rights */
    assert_int_equal(info_of(c).rights, L4MM_R);
    assert_int_equal(info_of(d).rights, L4MM_RWX);
    assert_int_equal(e->nlog, 2);
    assert_int_equal(find_change(e, 3, 0)->new_rights, 0);
    assert_int_equal(find_change(e, 4, 0)->old_rights, L4MM_R | L4MM_W);
    /* now everything under r, r too */
    e->nlog = 0;
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->nlog, 4);
    assert_true(change_pos(e, 4, 0) < change_pos(e, 2, 0));
    assert_true(change_pos(e, 2, 0) < change_pos(e, 1, 0));
    assert_true(change_pos(e, 5, 0) < change_pos(e, 1, 0));
    assert_null(e->db.head);
    assert_int_equal(e->allocs, e->frees);
}

static void test_mapdb_unmap_self_partial_keeps_mapping(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, KB4, 2, 0, L4MM_R | L4MM_W);
    assert_int_equal(l4mm_mapdb_unmap(&e->db, m, L4MM_W | L4MM_X, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(info_of(m).rights, L4MM_R);
    assert_int_equal(e->nlog, 1);
    assert_int_equal(e->log[0].old_rights, L4MM_R | L4MM_W);
    assert_int_equal(e->log[0].new_rights, L4MM_R);
    /* removing rights nobody holds reports nothing */
    assert_int_equal(l4mm_mapdb_unmap(&e->db, m, L4MM_W, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->nlog, 1);
}

/* ---- budgeted unmap ---------------------------------------------------------------------- */

static void test_mapdb_unmap_start_rejects_bad_arguments_and_does_no_work(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    mk_map(e, r, 0, KB4, 2, 0, L4MM_RWX);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(NULL, &op, r, 7, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, NULL, r, 7, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, NULL, 7, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 8, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 7, 4), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 7, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(e->db.nodes, 2);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 7, 0), L4MM_EINVAL); /* running */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    while (l4mm_mapdb_unmap_step(&e->db, &op, 1) == L4MM_EAGAIN)
        ;
    assert_int_equal(e->nlog, 2);
    assert_int_equal(e->allocs, e->frees);
}

static void test_mapdb_unmap_step_rejects_bad_arguments(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    struct l4mm_mapdb_op op, other;
    memset(&other, 0, sizeof other);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 7, 0), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(NULL, &op, 1), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, NULL, 1), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &other, 1), L4MM_EINVAL);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 10), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 10), L4MM_EINVAL); /* finished: free */
    assert_int_equal(info_of(r).rights, L4MM_RWX);
}

static void test_mapdb_unmap_step_rights_zero_finishes_at_once(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    mk_map(e, r, 0, KB4, 2, 0, L4MM_RWX);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, 0, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 1), L4MM_OK);
    assert_int_equal(e->nlog, 0);
    assert_int_equal(e->db.nodes, 2);
    /* the same record, reused at once, with a budget large enough finishes in one step */
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 100), L4MM_OK);
    assert_int_equal(e->nlog, 2);
    assert_int_equal(e->db.nodes, 0);
}

static void test_mapdb_unmap_step_respects_budget_and_finishes(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    for (unsigned i = 0; i < 100; i++) {
        l4mm_mapping *c = mk_map(e, r, (l4mm_addr_t)i << MB2, MB2, 2, (l4mm_addr_t)i << MB2, 7);
        mk_map(e, c, 0, KB4, 3, (l4mm_addr_t)i << KB4, L4MM_R | L4MM_W);
    }
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, L4MM_W, 0), L4MM_OK);
    size_t steps = 0, last = 0;
    l4mm_status s;
    for (;;) {
        s = l4mm_mapdb_unmap_step(&e->db, &op, 7);
        assert_true(e->nlog - last <= 7);
        last = e->nlog;
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
        steps++;
        if (s != L4MM_EAGAIN)
            break;
    }
    assert_int_equal(s, L4MM_OK);
    assert_true(steps >= 200 / 7); /* one visit per node at least */
    assert_int_equal(e->nlog, 200);
    for (size_t i = 0; i < e->nlog; i++)
        assert_int_equal(e->log[i].new_rights, e->log[i].old_rights & ~(unsigned)L4MM_W);
    assert_int_equal(e->db.nodes, 201);
}

static void test_mapdb_unmap_step_covers_mappings_created_meanwhile(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, GB1, 2, 0, L4MM_RWX);
    l4mm_mapping *kids[64];
    for (unsigned i = 0; i < 64; i++)
        kids[i] = mk_map(e, m, (l4mm_addr_t)i << MB2, MB2, 3, (l4mm_addr_t)i << MB2, 7);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_W | L4MM_X, L4MM_UNMAP_SELF),
                     L4MM_OK);
    l4mm_addr_t va = 0x100000000;
    unsigned round = 0;
    l4mm_status s;
    do {
        s = l4mm_mapdb_unmap_step(&e->db, &op, 5);
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
        if (s == L4MM_EAGAIN) {
            /* map from inside (every child still alive, and m) and from outside */
            for (unsigned i = 0; i < 64; i++) {
                if (find_change(e, 3, (l4mm_addr_t)i << MB2))
                    continue; /* already reduced: handle still valid, map from it too */
                if ((round + i) % 9 == 0)
                    mk_map(e, kids[i], 0, KB4, 4, va += 0x1000, L4MM_RWX);
            }
            l4mm_mapping *o = NULL;
            if (info_of(m).rights & (L4MM_W | L4MM_X))
                assert_int_equal(l4mm_mapdb_map(&e->db, m, 0, KB4, 5, va += 0x1000, 7, &o),
                                 L4MM_OK);
            mk_map(e, r, 0, KB4, 6, va += 0x1000, L4MM_RWX);
            round++;
        }
    } while (s == L4MM_EAGAIN);
    assert_int_equal(s, L4MM_OK);
    /* nothing derived from m holds W or X; mappings from r outside m keep theirs */
    l4mm_mapping *x = e->db.head;
    do {
        struct l4mm_mapping_info i = info_of(x);
        if (i.space >= 2 && i.space <= 5)
            assert_int_equal(i.rights & (L4MM_W | L4MM_X), 0);
        if (i.space == 6)
            assert_int_equal(i.rights, L4MM_RWX);
        x = mdb_next(&e->db, x);
    } while (x != e->db.head);
}

static void test_mapdb_unmap_step_finishes_when_target_deleted(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, MB2, 2, 0, L4MM_RWX);
    for (unsigned i = 0; i < 20; i++)
        mk_map(e, m, (l4mm_addr_t)i << KB4, KB4, 3, (l4mm_addr_t)i << KB4, 7);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_W, 0), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 10), L4MM_EAGAIN); /* mid-walk */
    assert_int_equal(l4mm_mapdb_unmap(&e->db, r, L4MM_RWX, 0), L4MM_OK);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    size_t before = e->nlog;
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 1), L4MM_OK);
    assert_int_equal(e->nlog, before);
    assert_int_equal(e->db.nodes, 1);
    /* the record is free again */
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 1), L4MM_EAGAIN);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 1), L4MM_OK);
    assert_int_equal(e->allocs, e->frees);
}

static void test_mapdb_unmap_step_survives_new_roots_and_concurrent_ops(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *a = mk_map(e, r, 0, MB2, 2, 0, L4MM_RWX);
    l4mm_mapping *b = mk_map(e, a, 0, KB4, 3, 0, L4MM_RWX);
    mk_map(e, b, 0, KB4, 4, 0, L4MM_RWX);
    struct l4mm_mapdb_op o1, o2, o3;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &o1, a, L4MM_W, 0), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &o2, b, L4MM_X, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &o3, r, L4MM_RWX, 0), L4MM_OK);
    /* o1 reaches the end of its pass with its cursor on the head (the subtree ends the
     * forest): b and b's child visited */
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &o1, 2), L4MM_EAGAIN);
    assert_ptr_equal(o1.cur, r);
    mk_root(e, 9, 0, 0x400000, MB2, L4MM_RWX); /* lands between the subtree and head */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_status s1 = L4MM_EAGAIN, s2 = L4MM_EAGAIN, s3 = L4MM_EAGAIN;
    while (s1 == L4MM_EAGAIN || s2 == L4MM_EAGAIN || s3 == L4MM_EAGAIN) {
        if (s2 == L4MM_EAGAIN)
            s2 = l4mm_mapdb_unmap_step(&e->db, &o2, 1);
        if (s1 == L4MM_EAGAIN)
            s1 = l4mm_mapdb_unmap_step(&e->db, &o1, 1);
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
        if (s3 == L4MM_EAGAIN && s1 != L4MM_EAGAIN)
            s3 = l4mm_mapdb_unmap_step(&e->db, &o3, 2);
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    }
    assert_int_equal(s1, L4MM_OK);
    assert_int_equal(s2, L4MM_OK);
    assert_int_equal(s3, L4MM_OK);
    assert_int_equal(e->db.nodes, 2); /* r and the new root */
    l4mm_mapping *f = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x400000, 9, &f), L4MM_OK);
    assert_int_equal(info_of(f).rights, L4MM_RWX);
}

static void test_mapdb_unmap_step_root_inserted_between_trees_is_untouched(void **state)
{
    struct env *e = *state;
    /* trees ascend by paddr: A (0) and C (4 MiB); m's subtree ends A, so its cursor sits on C */
    l4mm_mapping *a = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *c = mk_root(e, 3, 0, 0x400000, MB2, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, a, 0, MB2, 2, 0, L4MM_RWX);
    mk_map(e, m, 0, KB4, 4, 0, L4MM_RWX);
    mk_map(e, m, 0x1000, KB4, 5, 0, L4MM_RWX);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 3), L4MM_EAGAIN); /* scanned */
    /* B (2 MiB) goes between A's last node and C, in front of the cursor */
    l4mm_mapping *b = mk_root(e, 6, 0, 0x200000, MB2, L4MM_RWX);
    assert_ptr_equal(mdb_next(&e->db, b), c);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_status s;
    while ((s = l4mm_mapdb_unmap_step(&e->db, &op, 1)) == L4MM_EAGAIN)
        assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(e->nlog, 3); /* m and its two children, nothing else */
    assert_null(find_change(e, 6, 0));
    assert_int_equal(info_of(b).rights, L4MM_RWX);
    assert_int_equal(info_of(a).rights, L4MM_RWX);
    assert_int_equal(e->db.nodes, 3);
    /* a root below every other becomes the head */
    l4mm_mapping *low = NULL;
    assert_int_equal(l4mm_mapdb_unmap(&e->db, a, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(l4mm_mapdb_root(&e->db, 7, 0, 0x1000, KB4, L4MM_R, &low), L4MM_OK);
    assert_ptr_equal(e->db.head, low);
    l4mm_mapping *f = NULL;
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x400fff, 3, &f), L4MM_OK);
    assert_ptr_equal(f, c);
    assert_int_equal(l4mm_mapdb_find(&e->db, 0x1fff, 3, &f), L4MM_ENOENT);
}

static l4mm_status step_checked(struct env *e, struct l4mm_mapdb_op *op, unsigned budget)
{
    l4mm_status s = l4mm_mapdb_unmap_step(&e->db, op, budget);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    return s;
}

static void test_mapdb_unmap_step_covers_children_mapped_from_target_in_later_passes(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, GB1, 2, 0, L4MM_RWX);
    l4mm_mapping *a = mk_map(e, m, 0, MB2, 3, 0, L4MM_R | L4MM_W);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_W, 0), L4MM_OK);
    assert_int_equal(step_checked(e, &op, 1), L4MM_EAGAIN); /* a visited: R */
    assert_int_equal(info_of(a).rights, L4MM_R);
    /* m keeps W (no SELF): its new child lands behind the cursor */
    l4mm_mapping *n1 = mk_map(e, m, 1u << MB2, MB2, 4, 1u << MB2, L4MM_RWX);
    assert_int_equal(step_checked(e, &op, 1), L4MM_EAGAIN); /* end of pass 1: pass 2 over n1 */
    assert_ptr_equal(op.cur, n1);
    assert_ptr_equal(op.stop, a);
    /* another operation deletes the end of pass 2: it moves on to a's successor (head) */
    assert_int_equal(l4mm_mapdb_unmap(&e->db, a, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_ptr_equal(op.stop, r);
    /* a root above every other goes in front of head, i.e. at the end of m's tree */
    l4mm_mapping *hi = mk_root(e, 9, 0, UINT64_C(1) << GB1, GB1, L4MM_RWX);
    assert_ptr_equal(op.stop, hi);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_mapping *g = mk_map(e, n1, 0, KB4, 5, 0, L4MM_RWX); /* ahead of the cursor */
    l4mm_mapping *n2 = mk_map(e, m, 2u << MB2, MB2, 6, 2u << MB2, L4MM_W | L4MM_X); /* pass 3 */
    l4mm_status s;
    unsigned steps = 0;
    while ((s = step_checked(e, &op, 1)) == L4MM_EAGAIN)
        assert_true(++steps < 20);
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(info_of(n1).rights, L4MM_R | L4MM_X);
    assert_int_equal(info_of(g).rights, L4MM_R | L4MM_X);
    assert_int_equal(info_of(n2).rights, L4MM_X);
    assert_int_equal(info_of(m).rights, L4MM_RWX);
    assert_int_equal(info_of(r).rights, L4MM_RWX);
    assert_int_equal(info_of(hi).rights, L4MM_RWX);
    assert_null(find_change(e, 9, 0));
    assert_int_equal(e->db.nodes, 6);
}

static void test_mapdb_unmap_step_deletes_children_mapped_from_pending_nodes(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *m = mk_map(e, r, 0, GB1, 2, 0, L4MM_R | L4MM_W);
    l4mm_mapping *a = mk_map(e, m, 0, MB2, 3, 0, L4MM_R);
    l4mm_mapping *b = mk_map(e, a, 0, KB4, 4, 0, L4MM_R);
    mk_map(e, b, 0, KB4, 5, 0, L4MM_R);
    l4mm_mapping *d = mk_map(e, m, 1u << MB2, MB2, 6, 0, L4MM_R);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, m, L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    /* m, d (its newest child), a, b visited: all wait for deletion */
    assert_int_equal(step_checked(e, &op, 4), L4MM_EAGAIN);
    assert_int_equal(e->nlog, 1); /* d, a leaf passed by the cursor, is gone */
    assert_int_equal(find_change(e, 6, 0)->new_rights, 0);
    (void)d;
    /* map from waiting nodes (they still hold their rights), and from what that gives */
    l4mm_mapping *x = mk_map(e, a, 1u << KB4, KB4, 7, 0, L4MM_R);
    mk_map(e, x, 0, KB4, 8, 0, L4MM_R);
    mk_map(e, m, 2u << MB2, MB2, 9, 0, L4MM_W);
    l4mm_status s;
    while ((s = step_checked(e, &op, 1)) == L4MM_EAGAIN)
        ;
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(e->db.nodes, 1); /* only r */
    assert_int_equal(e->nlog, 8);
    assert_true(change_pos(e, 8, 0) < change_pos(e, 7, 0)); /* bottom-up */
    assert_true(change_pos(e, 7, 0) < change_pos(e, 3, 0));
    assert_true(change_pos(e, 5, 0) < change_pos(e, 4, 0));
    assert_true(change_pos(e, 3, 0) < change_pos(e, 2, 0));
    assert_true(change_pos(e, 9, 0) < change_pos(e, 2, 0));
    assert_int_equal(e->allocs, e->frees + 1u);
}

static void test_mapdb_unmap_step_other_op_deletes_below_a_node_reduced_top_down(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, GB1, L4MM_RWX);
    l4mm_mapping *x = mk_map(e, r, 0, MB2, 2, 0, L4MM_R | L4MM_W);
    l4mm_mapping *y = mk_map(e, x, 0, KB4, 3, 0, L4MM_R | L4MM_W);
    struct l4mm_mapdb_op a, b;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &a, r, L4MM_W, 0), L4MM_OK);
    assert_int_equal(step_checked(e, &a, 1), L4MM_EAGAIN);
    /* a reduced x top-down; y below it still holds W (allowed while a runs) */
    assert_int_equal(info_of(x).rights, L4MM_R);
    assert_int_equal(info_of(y).rights, L4MM_R | L4MM_W);
    /* b removes R: x has nothing left, so everything derived from it goes, W or not */
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &b, r, L4MM_R, 0), L4MM_OK);
    l4mm_status s;
    while ((s = step_checked(e, &b, 1)) == L4MM_EAGAIN)
        ;
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(find_change(e, 3, 0)->old_rights, L4MM_R | L4MM_W);
    assert_int_equal(find_change(e, 3, 0)->new_rights, 0);
    assert_true(gone_pos(e, 3, 0) < gone_pos(e, 2, 0));
    while ((s = step_checked(e, &a, 1)) == L4MM_EAGAIN)
        ;
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(e->db.nodes, 1);
    assert_int_equal(e->nlog, 3);
}

static void
test_mapdb_check_allows_excess_rights_only_below_a_running_op_and_for_its_rights(void **state)
{
    struct env *e = *state;
    l4mm_mapping *r = mk_root(e, 1, 0, 0, MB2, L4MM_RWX);
    l4mm_mapping *x = mk_map(e, r, 0, MB2, 2, 0, L4MM_R | L4MM_W);
    l4mm_mapping *y = mk_map(e, x, 0, KB4, 3, 0, L4MM_R | L4MM_W);
    l4mm_mapping *r2 = mk_root(e, 4, 0, 0x400000, MB2, L4MM_R | L4MM_W);
    l4mm_mapping *z = mk_map(e, r2, 0, KB4, 5, 0, L4MM_R);
    struct l4mm_mapdb_op op;
    assert_int_equal(l4mm_mapdb_unmap_start(&e->db, &op, r, L4MM_W, 0), L4MM_OK);
    assert_int_equal(step_checked(e, &op, 1), L4MM_EAGAIN);
    assert_int_equal(info_of(x).rights, L4MM_R);
    assert_int_equal(info_of(y).rights, L4MM_R | L4MM_W); /* W beyond x: allowed */
    mdb_set_rights(y, L4MM_RWX); /* X beyond x: the operation does not remove X */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    mdb_set_rights(y, L4MM_R | L4MM_W);
    mdb_set_rights(z, L4MM_R | L4MM_X); /* outside the running operation's subtree */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    mdb_set_rights(z, L4MM_R);
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_OK);
    l4mm_status s;
    while ((s = step_checked(e, &op, 1)) == L4MM_EAGAIN)
        ;
    assert_int_equal(s, L4MM_OK);
    assert_int_equal(info_of(y).rights, L4MM_R);
    mdb_set_rights(y, L4MM_R | L4MM_W); /* the operation finished: no excess any more */
    assert_int_equal(l4mm_mapdb_check(&e->db), L4MM_ECORRUPT);
    mdb_set_rights(y, L4MM_R);
}

/* ---- leaks ------------------------------------------------------------------------------- */

static void test_mapdb_every_node_freed_after_everything_unmapped(void **state)
{
    struct env *e = *state;
    l4mm_mapping *roots[8];
    for (unsigned i = 0; i < 8; i++) {
        roots[i] = mk_root(e, 1, (l4mm_addr_t)i << GB1, (l4mm_addr_t)i << GB1, GB1, L4MM_RWX);
        l4mm_mapping *p = roots[i];
        for (unsigned j = 0; j < 50; j++) {
            l4mm_addr_t off = j % 3 ? 0 : (l4mm_addr_t)j << KB4;
            p = mk_map(e, j % 3 ? p : roots[i], off, KB4, 2 + j, (l4mm_addr_t)j << KB4, L4MM_RWX);
        }
    }
    assert_int_equal(e->db.nodes, 408);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(l4mm_mapdb_unmap(&e->db, roots[i], L4MM_RWX, L4MM_UNMAP_SELF), L4MM_OK);
    assert_int_equal(e->allocs, 408);
    assert_int_equal(e->frees, 408);
    assert_int_equal(e->nlog, 408);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mapdb_unmap_rights_zero_does_nothing),
        T(test_mapdb_unmap_rejects_bad_arguments),
        T(test_mapdb_unmap_removes_rights_recursively_bottom_up),
        T(test_mapdb_unmap_self_partial_keeps_mapping),
        T(test_mapdb_unmap_start_rejects_bad_arguments_and_does_no_work),
        T(test_mapdb_unmap_step_rejects_bad_arguments),
        T(test_mapdb_unmap_step_rights_zero_finishes_at_once),
        T(test_mapdb_unmap_step_respects_budget_and_finishes),
        T(test_mapdb_unmap_step_covers_mappings_created_meanwhile),
        T(test_mapdb_unmap_step_finishes_when_target_deleted),
        T(test_mapdb_unmap_step_survives_new_roots_and_concurrent_ops),
        T(test_mapdb_unmap_step_root_inserted_between_trees_is_untouched),
        T(test_mapdb_unmap_step_covers_children_mapped_from_target_in_later_passes),
        T(test_mapdb_unmap_step_deletes_children_mapped_from_pending_nodes),
        T(test_mapdb_unmap_step_other_op_deletes_below_a_node_reduced_top_down),
        T(test_mapdb_check_allows_excess_rights_only_below_a_running_op_and_for_its_rights),
        T(test_mapdb_every_node_freed_after_everything_unmapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
