/*
 * mapdb.c - the mapping database: nodes, roots, map, grant, find, info.
 *
 * Layout and invariants: mapdb_internal.h and docs/mapdb.md. Unmap lives in mapdb_unmap.c,
 * the checker in mapdb_check.c.
 *
 * Every public function validates all of its arguments first and returns before touching
 * anything; only then does it commit (allocation is the last fallible step).
 */
#include "mapdb/mapdb_internal.h"

L4MM_STATIC_ASSERT(sizeof(struct l4mm_mapping) == L4MM_MAPDB_NODE_SIZE,
                   "node layout must match L4MM_MAPDB_NODE_SIZE");
L4MM_STATIC_ASSERT(L4MM_MAPDB_NODE_SIZE <= 24u, "a node is at most 24 bytes");
L4MM_STATIC_ASSERT(L4MM_MAPDB_VPN_BITS + L4MM_MAPDB_PPN_BITS - 14u == 64u,
                   "vpn and the low ppn bits fill addr exactly");

l4mm_status l4mm_mapdb_init(struct l4mm_mapdb *db, const struct l4mm_mapdb_ops *ops)
{
    if (!db || !ops || !ops->node_alloc || !ops->node_free)
        return L4MM_EINVAL;
    db->ops = *ops;
    db->head = NULL;
    db->active = NULL;
    db->base = 0;
    db->nodes = 0;
    db->nactive = 0;
    db->lo = 0;
    db->hi = 0;
    return L4MM_OK;
}

l4mm_status l4mm_mapdb_node_new(struct l4mm_mapdb *db, l4mm_mapping **out)
{
    void *p = db->ops.node_alloc(db->ops.ctx);
    if (!p)
        return L4MM_ENOMEM;
    uint64_t a = (uint64_t)(uintptr_t)p;
    uintptr_t base = db->base;
    if (db->nodes == 0) /* empty: anchor the window around this node */
        base = (uintptr_t)(a > MDB_WINDOW_HALF ? a - MDB_WINDOW_HALF : 0u);
    uint64_t off = a - (uint64_t)base;
    if ((a & 7u) != 0 || a < (uint64_t)base + 8u || (off >> 3) > UINT32_MAX) {
        db->ops.node_free(db->ops.ctx, p);
        return L4MM_ENOMEM;
    }
    uint32_t idx = (uint32_t)(off >> 3);
    if (db->nodes == 0) {
        db->base = base;
        db->lo = idx;
        db->hi = idx;
    } else {
        db->lo = idx < db->lo ? idx : db->lo;
        db->hi = idx > db->hi ? idx : db->hi;
    }
    *out = (l4mm_mapping *)p;
    return L4MM_OK;
}

void l4mm_mapdb_link_after(struct l4mm_mapdb *db, l4mm_mapping *after, l4mm_mapping *n)
{
    uint32_t ni = mdb_index(db, n);
    if (!after) {
        n->next = ni;
        n->prev = ni;
    } else {
        l4mm_mapping *nx = mdb_next(db, after);
        n->prev = mdb_index(db, after);
        n->next = after->next;
        nx->prev = ni;
        after->next = ni;
    }
    db->nodes++;
}

static bool rights_ok(unsigned rights)
{
    return rights <= L4MM_RWX;
}

static bool fits(uint64_t v, unsigned bits)
{
    return (v >> bits) == 0;
}

/* Last byte of [start, start + 2^order), without overflow. */
static l4mm_addr_t last_byte(l4mm_addr_t start, unsigned order)
{
    return start + ((UINT64_C(1) << order) - 1u);
}

l4mm_status l4mm_mapdb_root(struct l4mm_mapdb *db, l4mm_space_id space, l4mm_addr_t vaddr,
                            l4mm_addr_t paddr, unsigned order, unsigned rights, l4mm_mapping **out)
{
    if (!db || !out || order > L4MM_MAPDB_MAX_ORDER || rights == 0 || !rights_ok(rights))
        return L4MM_EINVAL;
    uint64_t mask = (UINT64_C(1) << order) - 1u;
    if ((vaddr & mask) != 0 || (paddr & mask) != 0)
        return L4MM_EINVAL;
    uint64_t vpn = vaddr >> order, ppn = paddr >> order;
    if (!fits(vpn, L4MM_MAPDB_VPN_BITS) || !fits(ppn, L4MM_MAPDB_PPN_BITS))
        return L4MM_EINVAL;

    /* Trees are kept sorted by physical address: walk the roots up to the first one above
     * the new range; an overlap on the way is idempotence or EBUSY. */
    l4mm_addr_t last = last_byte(paddr, order);
    l4mm_mapping *x = db->head, *before = NULL;
    if (x) {
        do {
            if (mdb_depth(x) == 0) {
                l4mm_addr_t xp = mdb_paddr(x);
                unsigned xo = mdb_order(x);
                if (xp > last) {
                    before = x;
                    break;
                }
                if (paddr <= last_byte(xp, xo)) {
                    if (x->space == space && xo == order && xp == paddr && mdb_vaddr(x) == vaddr) {
                        *out = x;
                        return L4MM_OK;
                    }
                    return L4MM_EBUSY;
                }
            }
            x = mdb_next(db, x);
        } while (x != db->head);
    }

    l4mm_mapping *n;
    l4mm_status s = l4mm_mapdb_node_new(db, &n);
    if (s != L4MM_OK)
        return s;
    mdb_pack(n, space, vpn, ppn, order, rights, 0);
    if (!db->head) {
        l4mm_mapdb_link_after(db, NULL, n);
        db->head = n;
    } else {
        /* In front of the first root above it (or at the end: in front of head). */
        l4mm_mapping *at = before ? before : db->head;
        l4mm_mapdb_ops_root_inserted(db, at, n);
        l4mm_mapdb_link_after(db, mdb_prev(db, at), n);
        if (before == db->head)
            db->head = n;
    }
    *out = n;
    return L4MM_OK;
}

l4mm_status l4mm_mapdb_map(struct l4mm_mapdb *db, l4mm_mapping *from, l4mm_addr_t offset,
                           unsigned order, l4mm_space_id to, l4mm_addr_t to_vaddr, unsigned rights,
                           l4mm_mapping **out)
{
    if (!db || !from || !out || !rights_ok(rights))
        return L4MM_EINVAL;
    if (!mdb_known(db, from)) /* before anything that trusts from's fields */
        return L4MM_ENOENT;
    unsigned fo = mdb_order(from);
    if (order > fo)
        return L4MM_EINVAL;
    uint64_t size = UINT64_C(1) << order, fsize = UINT64_C(1) << fo;
    if ((offset & (size - 1u)) != 0 || offset > fsize - size || (to_vaddr & (size - 1u)) != 0)
        return L4MM_EINVAL;
    uint64_t vpn = to_vaddr >> order, ppn = (mdb_paddr(from) + offset) >> order;
    if (!fits(vpn, L4MM_MAPDB_VPN_BITS) || !fits(ppn, L4MM_MAPDB_PPN_BITS))
        return L4MM_EINVAL;
    unsigned depth = mdb_depth(from);
    if (depth >= L4MM_MAPDB_MAX_DEPTH)
        return L4MM_EINVAL; /* the depth limit: never wraps */
    unsigned eff = rights & mdb_rights(from);
    if (eff == 0)
        return L4MM_EPERM;

    l4mm_mapping *n;
    l4mm_status s = l4mm_mapdb_node_new(db, &n);
    if (s != L4MM_OK)
        return s;
    mdb_pack(n, to, vpn, ppn, order, eff, depth + 1u);
    /* Right after `from` in preorder = its first child. */
    l4mm_mapdb_link_after(db, from, n);
    *out = n;
    return L4MM_OK;
}

l4mm_status l4mm_mapdb_grant(struct l4mm_mapdb *db, l4mm_mapping *m, l4mm_space_id to,
                             l4mm_addr_t to_vaddr, unsigned rights, l4mm_mapping **out)
{
    if (!db || !m || !out || !rights_ok(rights))
        return L4MM_EINVAL;
    if (!mdb_known(db, m)) /* before anything that trusts m's fields */
        return L4MM_ENOENT;
    unsigned order = mdb_order(m);
    if ((to_vaddr & ((UINT64_C(1) << order) - 1u)) != 0)
        return L4MM_EINVAL;
    uint64_t vpn = to_vaddr >> order;
    if (!fits(vpn, L4MM_MAPDB_VPN_BITS))
        return L4MM_EINVAL;
    unsigned old = mdb_rights(m);
    unsigned eff = rights & old;
    if (eff == 0)
        return L4MM_EPERM;
    if (l4mm_mapdb_is_target(db, m))
        return L4MM_EBUSY;

    /* Reduced rights: the subtree loses the difference first, children before parents. */
    if (eff != old)
        l4mm_mapdb_unmap_all(db, m, old & ~eff, 0);
    if (db->ops.changed)
        db->ops.changed(db->ops.ctx, m->space, mdb_vaddr(m), order, old, 0);
    uint32_t keep = m->meta & ~(7u << MDB_RIGHTS_SHIFT);
    m->space = to;
    m->meta = keep | (eff << MDB_RIGHTS_SHIFT);
    m->addr = (m->addr & ~MDB_VPN_MASK) | vpn;
    *out = m;
    return L4MM_OK;
}

l4mm_status l4mm_mapdb_find(const struct l4mm_mapdb *db, l4mm_addr_t paddr, l4mm_space_id space,
                            l4mm_mapping **out)
{
    if (!db || !out)
        return L4MM_EINVAL;
    l4mm_mapping *x = db->head;
    if (!x)
        return L4MM_ENOENT;
    /* Every mapping lies inside its root's range and the trees ascend: stop at the first root
     * above paddr. */
    do {
        l4mm_addr_t p = mdb_paddr(x);
        if (mdb_depth(x) == 0 && p > paddr)
            break;
        if (x->space == space && p <= paddr && paddr <= last_byte(p, mdb_order(x))) {
            *out = x;
            return L4MM_OK;
        }
        x = mdb_next(db, x);
    } while (x != db->head);
    return L4MM_ENOENT;
}

void l4mm_mapdb_info(const l4mm_mapping *m, struct l4mm_mapping_info *out)
{
    if (!m || !out)
        return;
    out->space = m->space;
    out->vaddr = mdb_vaddr(m);
    out->paddr = mdb_paddr(m);
    out->order = mdb_order(m);
    out->rights = mdb_rights(m);
    out->depth = mdb_depth(m);
}
