/*
 * mapdb_check.c - l4mm_mapdb_check(): verifies the whole database without trusting it.
 *
 * Links are followed only after their index is known to lie in [lo, hi], the range of
 * indices node_alloc ever produced, so a damaged link is reported instead of followed into
 * foreign memory. The walk is bounded by the node count, so a cycle cannot hang it.
 */
#include "mapdb/mapdb_internal.h"

static bool idx_ok(const struct l4mm_mapdb *db, uint32_t i)
{
    return i != 0 && i >= db->lo && i <= db->hi;
}

static bool node_ok(const struct l4mm_mapdb *db, const l4mm_mapping *n)
{
    uintptr_t a = (uintptr_t)n;
    if (a < db->base || ((a - db->base) & 7u) != 0)
        return false;
    return idx_ok(db, mdb_index(db, n));
}

static l4mm_addr_t last_byte(l4mm_addr_t start, unsigned order)
{
    return start + ((UINT64_C(1) << order) - 1u);
}

/* Fields that must make sense on their own. */
static bool fields_ok(const l4mm_mapping *x)
{
    unsigned o = mdb_order(x);
    if (mdb_rights(x) == 0 || o > L4MM_MAPDB_MAX_ORDER)
        return false;
    /* vpn << order and ppn << order must not lose bits */
    if (o > 64u - L4MM_MAPDB_VPN_BITS && (mdb_vpn(x) >> (64u - o)) != 0)
        return false;
    if (o > 64u - L4MM_MAPDB_PPN_BITS && (mdb_ppn(x) >> (64u - o)) != 0)
        return false;
    return true;
}

/* `allow`: rights c may hold beyond its parent (removed top-down by a running operation). */
static bool child_ok(const l4mm_mapping *c, const l4mm_mapping *p, unsigned allow)
{
    if ((mdb_rights(c) & ~mdb_rights(p) & ~allow) != 0 || mdb_order(c) > mdb_order(p))
        return false;
    l4mm_addr_t cp = mdb_paddr(c), pp = mdb_paddr(p);
    return cp >= pp && last_byte(cp, mdb_order(c)) <= last_byte(pp, mdb_order(p));
}

/* Rights that registered operations on x remove (descendants of x may still hold them while
 * x's parents lost them). Bounded by nactive, so a damaged list cannot make it loop. */
static unsigned removing_at(const struct l4mm_mapdb *db, const l4mm_mapping *x)
{
    unsigned r = 0;
    size_t k = 0;
    for (const struct l4mm_mapdb_op *o = db->active; o && k < db->nactive; o = o->next, k++)
        if (o->m == x && o->phase != MDB_OP_DONE)
            r |= o->rights;
    return r & L4MM_RWX;
}

/* An optional node pointer of an operation: NULL, or a node marked OPREF. */
static bool ref_ok(const struct l4mm_mapdb *db, const l4mm_mapping *n)
{
    return !n || (node_ok(db, n) && (n->meta & MDB_OPREF));
}

static l4mm_status check_ops(const struct l4mm_mapdb *db)
{
    size_t k = 0;
    const struct l4mm_mapdb_op *prev = NULL;
    for (const struct l4mm_mapdb_op *o = db->active; o; o = o->next) {
        if (++k > db->nactive || o->prev != prev || o->rights > L4MM_RWX ||
            (o->flags & ~(unsigned)L4MM_UNMAP_SELF) != 0 || o->phase < MDB_OP_START ||
            o->phase > MDB_OP_DONE)
            return L4MM_ECORRUPT;
        if (o->phase != MDB_OP_DONE) {
            if (!o->m || !node_ok(db, o->m) || !(o->m->meta & MDB_OPREF) ||
                o->depth != mdb_depth(o->m))
                return L4MM_ECORRUPT;
            if (!o->cur || !ref_ok(db, o->cur) || !ref_ok(db, o->pend) || !ref_ok(db, o->first) ||
                !ref_ok(db, o->stop))
                return L4MM_ECORRUPT;
            if (o->phase == MDB_OP_START && (o->cur != o->m || o->pend || o->first || o->stop))
                return L4MM_ECORRUPT;
        }
        prev = o;
    }
    return k == db->nactive ? L4MM_OK : L4MM_ECORRUPT;
}

l4mm_status l4mm_mapdb_check(const struct l4mm_mapdb *db)
{
    if (!db)
        return L4MM_EINVAL;
    if (!db->ops.node_alloc || !db->ops.node_free)
        return L4MM_ECORRUPT;
    if (!db->head)
        return db->nodes == 0 ? check_ops(db) : L4MM_ECORRUPT;
    if (db->nodes == 0 || db->lo > db->hi || db->nodes - 1u > (size_t)(db->hi - db->lo) ||
        !node_ok(db, db->head) || mdb_depth(db->head) != 0)
        return L4MM_ECORRUPT; /* (more nodes than indices in [lo, hi] bounds the walk too) */

    uint32_t path[L4MM_MAPDB_MAX_DEPTH + 1u]; /* path[d]: the last node seen at depth d */
    uint8_t extra[L4MM_MAPDB_MAX_DEPTH + 1u]; /* rights path[d]'s children may hold beyond it */
    size_t count = 0;
    unsigned prevd = 0;
    l4mm_addr_t root_last = 0; /* last byte of the previous root: roots ascend, disjoint */
    const l4mm_mapping *x = db->head;
    do {
        if (++count > db->nodes || !idx_ok(db, x->next) || !idx_ok(db, x->prev))
            return L4MM_ECORRUPT;
        const l4mm_mapping *n = mdb_next(db, x);
        if (n->prev != mdb_index(db, x) || !fields_ok(x))
            return L4MM_ECORRUPT;
        unsigned d = mdb_depth(x);
        if (d > prevd + 1u)
            return L4MM_ECORRUPT;
        unsigned allow = d > 0 ? extra[d - 1u] : 0u;
        if (d > 0 && !child_ok(x, mdb_node(db, path[d - 1u]), allow))
            return L4MM_ECORRUPT;
        if (x->meta & MDB_OPREF)
            allow |= removing_at(db, x);
        extra[d] = (uint8_t)allow;
        if (d == 0) {
            if (x != db->head && mdb_paddr(x) <= root_last)
                return L4MM_ECORRUPT;
            root_last = last_byte(mdb_paddr(x), mdb_order(x));
        }
        path[d] = mdb_index(db, x);
        prevd = d;
        x = n;
    } while (x != db->head);
    return count == db->nodes ? check_ops(db) : L4MM_ECORRUPT;
}
