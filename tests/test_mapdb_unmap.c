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
    assert_true(steps >= 400 / 7);
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
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &op, 25), L4MM_EAGAIN); /* mid-remove */
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
    /* o1 reaches REMOVE with its cursor on the head (the subtree ends the forest) */
    assert_int_equal(l4mm_mapdb_unmap_step(&e->db, &o1, 3), L4MM_EAGAIN);
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
        T(test_mapdb_every_node_freed_after_everything_unmapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
