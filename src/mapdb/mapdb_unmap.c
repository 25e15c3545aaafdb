/*
 * mapdb_unmap.c - recursive unmap, unbounded and budgeted, and the registry of operations.
 *
 * One engine serves both. It works on the preorder list in two phases:
 *
 *   SCAN    walk forward from m to find the end of m's subtree. cur = the last node scanned.
 *   REMOVE  walk backward from the node after the subtree, towards m. cur = the last node
 *           done (or the node after the subtree); the next one to do is always cur->prev.
 *
 *        m   a   b   c   d   e   |  f          preorder, m's subtree = m..e
 *        <----------- REMOVE ----+  (cur = f, then e, d, ... while they are kept)
 *
 * Walking backward in preorder visits every node after all its descendants, so a node is
 * reduced or deleted only after its whole subtree was: a child never holds more than its
 * parent, not even between steps, and deletion is bottom-up.
 *
 * Why the cursors stay valid while other operations run between steps:
 *  - map inserts a child right after its parent. If the parent is not done yet (it is before
 *    cur) the child lands before cur and will be done; if the parent is done (cur or after)
 *    the child inherits the already reduced rights. During SCAN a child of a scanned node lands
 *    inside the range that REMOVE will cover.
 *  - a new root goes in front of the first root above its range (or of head); a REMOVE
 *    cursor sitting on that root is moved onto the new one, so cur->prev is unchanged.
 *  - deleting a node that an operation points at (marked OPREF) fixes that operation: a
 *    deleted target finishes it; a SCAN cursor moves back to its predecessor (scanned);
 *    a REMOVE cursor moves to its successor (so cur->prev is unchanged).
 *  - grant rewrites a node in place: nothing moves.
 */
#include "mapdb/mapdb_internal.h"

/* The working state of one operation (copied in and out of the caller's record). */
struct run {
    l4mm_mapping *m, *cur;
    unsigned rights, flags, phase, depth;
};

static void set_ref(l4mm_mapping *n)
{
    if (n)
        n->meta |= MDB_OPREF;
}

/* Fixes every registered operation that points at x, which is being deleted. */
static void fix_ops(struct l4mm_mapdb *db, const l4mm_mapping *x, l4mm_mapping *p, l4mm_mapping *nx)
{
    for (struct l4mm_mapdb_op *op = db->active; op; op = op->next) {
        if (op->m == x) {
            op->m = NULL;
            op->cur = NULL;
            op->phase = MDB_OP_DONE;
        } else if (op->cur == x) {
            op->cur = op->phase == MDB_OP_SCAN ? p : nx;
            set_ref(op->cur);
        }
    }
}

/* Unlinks and frees x, which has no descendants left. */
static void delete_node(struct l4mm_mapdb *db, l4mm_mapping *x)
{
    l4mm_mapping *p = mdb_prev(db, x), *nx = mdb_next(db, x);
    if (nx == x) {
        db->head = NULL;
        p = NULL;
        nx = NULL;
    } else {
        p->next = x->next;
        nx->prev = x->prev;
        if (db->head == x)
            db->head = nx; /* x was a root without descendants: nx is the next root */
    }
    if (x->meta & MDB_OPREF)
        fix_ops(db, x, p, nx);
    db->nodes--;
    db->ops.node_free(db->ops.ctx, x);
}

/* Runs r for at most `budget` node visits. Returns true when it is finished. */
static bool run_steps(struct l4mm_mapdb *db, struct run *r, size_t budget)
{
    size_t visits = 0;
    if (r->phase == MDB_OP_DONE || r->rights == 0 || !r->m)
        return true;
    if (r->phase == MDB_OP_SCAN) {
        l4mm_mapping *s = r->cur;
        for (;;) {
            if (visits == budget) {
                r->cur = s;
                return false;
            }
            visits++;
            l4mm_mapping *nx = mdb_next(db, s);
            if (mdb_depth(nx) <= r->depth) { /* first node after the subtree (maybe m) */
                r->phase = MDB_OP_REMOVE;
                r->cur = nx;
                break;
            }
            s = nx;
        }
    }
    l4mm_mapping *c = r->cur, *m = r->m;
    const unsigned rm = r->rights;
    const bool self = (r->flags & L4MM_UNMAP_SELF) != 0;
    for (;;) {
        l4mm_mapping *x = mdb_prev(db, c);
        if (x == m && !self)
            return true;
        if (visits == budget) {
            r->cur = c;
            return false;
        }
        visits++;
        const bool last = x == m;
        MDB_PREFETCH(mdb_prev(db, x)); /* the next x: overlap its miss with this one */
        unsigned old = mdb_rights(x), nw = old & ~rm;
        if (nw != old && db->ops.changed)
            db->ops.changed(db->ops.ctx, x->space, mdb_vaddr(x), mdb_order(x), old, nw);
        if (nw == 0) {
            delete_node(db, x); /* c stays: c->prev is now x's predecessor */
        } else {
            mdb_set_rights(x, nw);
            c = x;
        }
        if (last)
            return true;
    }
}

void l4mm_mapdb_unmap_all(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights, unsigned flags)
{
    struct run r = { m, m, rights, flags, MDB_OP_SCAN, mdb_depth(m) };
    (void)run_steps(db, &r, SIZE_MAX);
}

l4mm_status l4mm_mapdb_unmap(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights,
                             unsigned flags)
{
    if (!db || !m || rights > L4MM_RWX || (flags & ~(unsigned)L4MM_UNMAP_SELF) != 0)
        return L4MM_EINVAL;
    if (!mdb_known(db, m))
        return L4MM_ENOENT;
    if (rights != 0)
        l4mm_mapdb_unmap_all(db, m, rights, flags);
    return L4MM_OK;
}

static bool registered(const struct l4mm_mapdb *db, const struct l4mm_mapdb_op *op)
{
    for (const struct l4mm_mapdb_op *o = db->active; o; o = o->next)
        if (o == op)
            return true;
    return false;
}

bool l4mm_mapdb_is_target(const struct l4mm_mapdb *db, const l4mm_mapping *m)
{
    if (!(m->meta & MDB_OPREF))
        return false;
    for (const struct l4mm_mapdb_op *o = db->active; o; o = o->next)
        if (o->m == m)
            return true;
    return false;
}

void l4mm_mapdb_ops_root_inserted(struct l4mm_mapdb *db, l4mm_mapping *before, l4mm_mapping *n)
{
    if (!(before->meta & MDB_OPREF))
        return;
    for (struct l4mm_mapdb_op *o = db->active; o; o = o->next) {
        if (o->phase == MDB_OP_REMOVE && o->cur == before) {
            o->cur = n;
            set_ref(n);
        }
    }
}

l4mm_status l4mm_mapdb_unmap_start(struct l4mm_mapdb *db, struct l4mm_mapdb_op *op, l4mm_mapping *m,
                                   unsigned rights, unsigned flags)
{
    if (!db || !op || !m || rights > L4MM_RWX || (flags & ~(unsigned)L4MM_UNMAP_SELF) != 0 ||
        registered(db, op) || !mdb_known(db, m)) /* the contract: OK or EINVAL */
        return L4MM_EINVAL;
    op->m = m;
    op->cur = m;
    op->rights = rights;
    op->flags = flags;
    op->phase = MDB_OP_SCAN;
    op->depth = mdb_depth(m);
    op->prev = NULL;
    op->next = db->active;
    if (db->active)
        db->active->prev = op;
    db->active = op;
    db->nactive++;
    set_ref(m);
    return L4MM_OK;
}

l4mm_status l4mm_mapdb_unmap_step(struct l4mm_mapdb *db, struct l4mm_mapdb_op *op, unsigned budget)
{
    if (!db || !op || budget == 0 || !registered(db, op))
        return L4MM_EINVAL;
    struct run r = { op->m, op->cur, op->rights, op->flags, op->phase, op->depth };
    bool done = run_steps(db, &r, budget);
    if (!done) {
        op->cur = r.cur;
        op->phase = r.phase;
        set_ref(r.cur);
        return L4MM_EAGAIN;
    }
    if (op->prev)
        op->prev->next = op->next;
    else
        db->active = op->next;
    if (op->next)
        op->next->prev = op->prev;
    db->nactive--;
    op->next = NULL;
    op->prev = NULL;
    op->m = NULL;
    op->cur = NULL;
    op->phase = MDB_OP_DONE;
    return L4MM_OK;
}
