/*
 * mapdb_unmap.c - recursive unmap, unbounded and budgeted, and the registry of operations.
 *
 * One engine serves both: ONE forward pass over the preorder list, from m to the end of m's
 * subtree. cur is the next node to visit.
 *
 *   visit x:  new = rights & ~removed. new != 0: report and set it now (top-down: between
 *             steps a child may still hold rights its parent lost, which the contract allows
 *             inside a running operation's subtree for the rights it removes). new == 0: x
 *             keeps its rights and becomes `pend`, the top of a run of nodes to delete; every
 *             node of pend's subtree is deleted too (it is derived from a mapping that loses
 *             everything), so the walk below pend only moves on.
 *   flush:    after each move of the cursor, while the node right before cur belongs to pend's
 *             subtree (pend itself, or deeper than pend) and is a leaf (not shallower than
 *             cur), report it (old -> 0) and delete it. The nodes between pend and cur are
 *             always the chain of cur's ancestors below pend, so deletion is bottom-up and
 *             touches only nodes visited a moment ago (cache-hot): one cold miss per node.
 *
 *        m   a   b   c   d   e   |  f      preorder; m's subtree = m..e, f ends the pass
 *        visit -->-->-->-->-->---+         each node once; pending leaves die behind cur
 *
 * The pass ends at the first node not deeper than m (or at `stop`, see below), where the
 * flush has deleted everything pending. Why nothing is missed while other operations run
 * between steps:
 *  - map inserts a child right after its parent: after an unvisited parent it lands ahead of
 *    cur (visited later); after a reduced parent it only gets reduced rights; after a node of
 *    pend's subtree it lands inside that subtree, behind cur, and the flush deletes it.
 *  - the exception is m itself without UNMAP_SELF: it keeps the removed rights, and its new
 *    children land right after m, behind cur. `first` remembers m's successor when a pass
 *    began; when the pass ends and m's successor is no longer `first`, the nodes from m's
 *    successor up to `first` are new: another pass walks them (stop = the old first).
 *  - a new root goes in front of the first root above its range (or of head); a cursor,
 *    first or stop on that root means "the end of m's tree": it moves onto the new root.
 *  - deleting a node an operation points at (marked OPREF) fixes that operation: a deleted
 *    target finishes it; cur, first and stop move to the successor (the deleted node was a
 *    leaf, so its successor is where the walk would go next); a deleted pend is forgotten
 *    (its subtree went first).
 *  - grant rewrites a node in place: nothing moves.
 * Budget: every visit, every deletion and the end of a pass is one unit, with at most one
 * `changed` report each.
 */
#include "mapdb/mapdb_internal.h"

static void set_ref(l4mm_mapping *n)
{
    if (n)
        n->meta |= MDB_OPREF;
}

/* Marks op finished: it points at no node any more. */
static void op_finished(struct l4mm_mapdb_op *op)
{
    op->m = NULL;
    op->cur = NULL;
    op->pend = NULL;
    op->first = NULL;
    op->stop = NULL;
    op->phase = MDB_OP_DONE;
}

/* Fixes op if it points at x, which is being deleted (nx: its successor, NULL if none). */
static void fix_op(struct l4mm_mapdb_op *op, const l4mm_mapping *x, l4mm_mapping *nx, bool mark)
{
    if (op->phase == MDB_OP_DONE)
        return;
    if (op->m == x) {
        op_finished(op);
        return;
    }
    if (op->pend == x)
        op->pend = NULL;
    if (op->cur == x) {
        op->cur = nx;
        if (mark)
            set_ref(nx);
    }
    if (op->first == x) {
        op->first = nx;
        if (mark)
            set_ref(nx);
    }
    if (op->stop == x) {
        op->stop = nx;
        if (mark)
            set_ref(nx);
    }
}

/* Unlinks and frees x, which has no descendants left; `self` is the running operation. */
static void delete_node(struct l4mm_mapdb *db, l4mm_mapping *x, struct l4mm_mapdb_op *self)
{
    l4mm_mapping *p = mdb_prev(db, x), *nx = mdb_next(db, x);
    if (nx == x) {
        db->head = NULL;
        nx = NULL;
    } else {
        p->next = x->next;
        nx->prev = x->prev;
        if (db->head == x)
            db->head = nx; /* x was a root without descendants: nx is the next root */
    }
    /* The running operation: its cursor is kept by run() and pend is cleared there, so only
     * m, first and stop can be x (fixed here, marked at the end of the step). */
    if (L4MM_UNLIKELY(x == self->m || x == self->first || x == self->stop))
        fix_op(self, x, nx, false);
    if (x->meta & MDB_OPREF)
        for (struct l4mm_mapdb_op *op = db->active; op; op = op->next)
            if (op != self)
                fix_op(op, x, nx, true);
    db->nodes--;
    db->ops.node_free(db->ops.ctx, x);
}

static void report(const struct l4mm_mapdb *db, const l4mm_mapping *x, unsigned old, unsigned nw)
{
    if (db->ops.changed)
        db->ops.changed(db->ops.ctx, x->space, mdb_vaddr(x), mdb_order(x), old, nw);
}

/* Runs o for at most `budget` units. Returns true when it is finished. */
static bool run(struct l4mm_mapdb *db, struct l4mm_mapdb_op *o, size_t budget)
{
    size_t units = 0;
    const unsigned rm = o->rights, dm = o->depth;
    l4mm_mapping *m = o->m;
    if (o->phase == MDB_OP_DONE || rm == 0 || !m)
        return true;
    if (o->phase == MDB_OP_START) {
        if (o->flags & L4MM_UNMAP_SELF) {
            units++; /* budget >= 1 */
            unsigned old = mdb_rights(m), nw = old & ~rm;
            if (nw == 0) {
                o->pend = m;
            } else if (nw != old) {
                report(db, m, old, nw);
                mdb_set_rights(m, nw);
            }
        }
        o->cur = mdb_next(db, m);
        o->first = o->cur;
        o->stop = NULL;
        o->phase = MDB_OP_WALK;
    }
    l4mm_mapping *c = o->cur;
    for (;;) {
        /* start loading the node after c now: the flush below overlaps with its miss */
        MDB_PREFETCH(mdb_next(db, c));
        /* flush: delete the leaves of pend's subtree right before c */
        if (o->pend) {
            const unsigned dc = mdb_depth(c);
            for (;;) {
                l4mm_mapping *x = mdb_prev(db, c), *p = o->pend;
                unsigned dx = mdb_depth(x);
                if (dx < dc || (x != p && dx <= mdb_depth(p)))
                    break;
                if (units == budget) {
                    o->cur = c;
                    return false;
                }
                units++;
                report(db, x, mdb_rights(x), 0);
                delete_node(db, x, o); /* c stays; c->prev is now x's predecessor */
                if (x == m)
                    return true; /* (fix_op finished o) */
                if (x == p) {
                    o->pend = NULL;
                    break;
                }
            }
        }
        if (units == budget) {
            o->cur = c;
            return false;
        }
        units++;
        if (c == o->stop || mdb_depth(c) <= dm) { /* the end of this pass */
            l4mm_mapping *f = mdb_next(db, m);
            if ((o->flags & L4MM_UNMAP_SELF) || f == o->first)
                return true;
            /* children mapped from m during the pass: walk [f, first) too */
            o->stop = o->first;
            o->first = f;
            c = f;
            continue;
        }
        l4mm_mapping *nc = mdb_next(db, c);
        if (!o->pend) {
            unsigned old = mdb_rights(c), nw = old & ~rm;
            if (nw == 0) {
                o->pend = c;
            } else if (nw != old) {
                report(db, c, old, nw);
                mdb_set_rights(c, nw);
            }
        }
        c = nc;
    }
}

void l4mm_mapdb_unmap_all(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights, unsigned flags)
{
    struct l4mm_mapdb_op o = { NULL,       NULL,         m,           m, NULL, NULL, NULL, rights,
                               flags & 1u, MDB_OP_START, mdb_depth(m) };
    (void)run(db, &o, SIZE_MAX);
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
        if (o->phase != MDB_OP_WALK)
            continue; /* (a cursor still on its target is not an end of a tree) */
        if (o->cur == before) {
            o->cur = n;
            set_ref(n);
        }
        if (o->first == before) {
            o->first = n;
            set_ref(n);
        }
        if (o->stop == before) {
            o->stop = n;
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
    op->pend = NULL;
    op->first = NULL;
    op->stop = NULL;
    op->rights = rights;
    op->flags = flags;
    op->phase = MDB_OP_START;
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
    l4mm_mapping *c0 = op->cur, *p0 = op->pend, *f0 = op->first, *s0 = op->stop;
    if (!run(db, op, budget)) {
        /* mark what moved (the rest is marked already; marks are never cleared): an
         * unchanged pointer may be far behind the walk, in a cold line */
        if (op->cur != c0)
            set_ref(op->cur);
        if (op->pend != p0)
            set_ref(op->pend);
        if (op->first != f0)
            set_ref(op->first);
        if (op->stop != s0)
            set_ref(op->stop);
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
    op_finished(op);
    return L4MM_OK;
}
