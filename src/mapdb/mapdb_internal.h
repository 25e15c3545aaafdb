/*
 * mapdb_internal.h - the node layout and the helpers shared by the mapdb sources.
 *
 * One node, 24 bytes on every target (see docs/mapdb.md for why it looks like this):
 *
 *   byte 0          4          8          12                 16                        24
 *        +----------+----------+----------+------------------+-------------------------+
 *        |   next   |   prev   |  space   |      meta        |          addr           |
 *        +----------+----------+----------+------------------+-------------------------+
 *   next, prev: 32-bit link indices (node address = db->base + 8 * index, 0 = none)
 *   meta:  bits 0-5 order | 6-8 rights | 9-16 depth | 17 OPREF | 18-31 ppn bits 24..37
 *   addr:  bits 0-39 vpn = vaddr >> order | bits 40-63 ppn bits 0..23 (ppn = paddr >> order)
 *
 * The whole forest is ONE circular, doubly linked list in preorder (trees in ascending order
 * of their physical ranges, head = the lowest); every node stores its depth; a tree is a root
 * (depth 0) followed by its descendants, so the subtree of n is n and the run of nodes after
 * it that are deeper than n:
 *
 *      R0 ── a ── b ── c ── d ── R1 ── e ── (back to R0)      R0          R1
 *      d0    d1   d2   d2   d1   d0    d1                    /  \         |
 *                                                            a    d        e
 *                                                           / \
 *                                                          b   c
 *
 * OPREF marks a node some registered operation points at (target, cursor, ...); deleting
 * such a node walks the registered operations to fix them (see mapdb_unmap.c).
 */
#ifndef L4MM_MAPDB_INTERNAL_H
#define L4MM_MAPDB_INTERNAL_H

#include "common/glue.h"
#include <l4mm/mapdb.h>

struct l4mm_mapping {
    uint32_t next;  /* preorder successor (circular over the whole forest) */
    uint32_t prev;  /* preorder predecessor */
    uint32_t space; /* holder */
    uint32_t meta;  /* order, rights, depth, OPREF, high ppn bits */
    uint64_t addr;  /* vpn, low ppn bits */
};

#define MDB_ORDER_MASK   0x3fu
#define MDB_RIGHTS_SHIFT 6u
#define MDB_DEPTH_SHIFT  9u
#define MDB_OPREF        (1u << 17)
#define MDB_PPNHI_SHIFT  18u
#define MDB_VPN_MASK     ((UINT64_C(1) << L4MM_MAPDB_VPN_BITS) - 1u)
#define MDB_PPNLO_BITS   24u
#define MDB_OP_START     1u
#define MDB_OP_WALK      2u
#define MDB_OP_DONE      3u
/* A hint only (a no-op where the compiler has nothing better); never a library call. */
#define MDB_PREFETCH(p) __builtin_prefetch((p), 1)
/* Link indices count 8-byte units from db->base; a database spans 2^35 bytes (32 GiB). */
#define MDB_WINDOW_HALF (UINT64_C(1) << 34)

static inline unsigned mdb_order(const l4mm_mapping *n)
{
    return n->meta & MDB_ORDER_MASK;
}

static inline unsigned mdb_rights(const l4mm_mapping *n)
{
    return (n->meta >> MDB_RIGHTS_SHIFT) & 7u;
}

static inline unsigned mdb_depth(const l4mm_mapping *n)
{
    return (n->meta >> MDB_DEPTH_SHIFT) & 0xffu;
}

static inline void mdb_set_rights(l4mm_mapping *n, unsigned r)
{
    n->meta = (n->meta & ~(7u << MDB_RIGHTS_SHIFT)) | (r << MDB_RIGHTS_SHIFT);
}

static inline uint64_t mdb_vpn(const l4mm_mapping *n)
{
    return n->addr & MDB_VPN_MASK;
}

static inline uint64_t mdb_ppn(const l4mm_mapping *n)
{
    return (n->addr >> L4MM_MAPDB_VPN_BITS) |
           ((uint64_t)(n->meta >> MDB_PPNHI_SHIFT) << MDB_PPNLO_BITS);
}

static inline l4mm_addr_t mdb_vaddr(const l4mm_mapping *n)
{
    return mdb_vpn(n) << mdb_order(n);
}

static inline l4mm_addr_t mdb_paddr(const l4mm_mapping *n)
{
    return mdb_ppn(n) << mdb_order(n);
}

/* Packs every field but the links; the caller has checked that vpn and ppn fit. */
static inline void mdb_pack(l4mm_mapping *n, l4mm_space_id space, uint64_t vpn, uint64_t ppn,
                            unsigned order, unsigned rights, unsigned depth)
{
    n->space = space;
    n->meta = order | (rights << MDB_RIGHTS_SHIFT) | (depth << MDB_DEPTH_SHIFT) |
              ((uint32_t)(ppn >> MDB_PPNLO_BITS) << MDB_PPNHI_SHIFT);
    n->addr = vpn | (ppn << L4MM_MAPDB_VPN_BITS);
}

static inline l4mm_mapping *mdb_node(const struct l4mm_mapdb *db, uint32_t idx)
{
    return (l4mm_mapping *)(db->base + (uintptr_t)idx * 8u);
}

static inline uint32_t mdb_index(const struct l4mm_mapdb *db, const l4mm_mapping *n)
{
    return (uint32_t)(((uintptr_t)n - db->base) / 8u);
}

static inline l4mm_mapping *mdb_next(const struct l4mm_mapdb *db, const l4mm_mapping *n)
{
    return mdb_node(db, n->next);
}

static inline l4mm_mapping *mdb_prev(const struct l4mm_mapdb *db, const l4mm_mapping *n)
{
    return mdb_node(db, n->prev);
}

/*
 * O(1) plausibility test of a caller's handle, for the "unknown node" rule: the node lies in
 * the window of node addresses this database handed out, on the 8-byte grid, and is linked
 * both ways with its neighbours. A node of another database or a forged pointer fails it;
 * the neighbours are read only when their indices are inside the window. A handle whose node
 * was already deleted cannot be recognised safely (its memory belongs to node_free's owner):
 * using one stays the caller's bug, as mapdb.h says.
 */
static inline bool mdb_known(const struct l4mm_mapdb *db, const l4mm_mapping *m)
{
    uintptr_t a = (uintptr_t)m;
    if (db->nodes == 0 || a < db->base || ((a - db->base) & 7u) != 0)
        return false;
    uintptr_t idx = (a - db->base) / 8u;
    if (idx < db->lo || idx > db->hi)
        return false;
    if (m->next < db->lo || m->next > db->hi || m->prev < db->lo || m->prev > db->hi)
        return false;
    return mdb_next(db, m)->prev == idx && mdb_prev(db, m)->next == idx;
}

/* Allocates a node inside the window (ENOMEM otherwise, nothing changed). */
l4mm_status l4mm_mapdb_node_new(struct l4mm_mapdb *db, l4mm_mapping **out);
/* Links n (fields set) after `after`, or as a lone circle when after is NULL. */
void l4mm_mapdb_link_after(struct l4mm_mapdb *db, l4mm_mapping *after, l4mm_mapping *n);
/* Removes `rights` from m's subtree (and m with SELF), unbounded; shared by unmap, grant. */
void l4mm_mapdb_unmap_all(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights, unsigned flags);
/* Called before root n is linked in front of `before`: fixes removal cursors. */
void l4mm_mapdb_ops_root_inserted(struct l4mm_mapdb *db, l4mm_mapping *before, l4mm_mapping *n);
/* Whether m is the target of a registered operation. */
bool l4mm_mapdb_is_target(const struct l4mm_mapdb *db, const l4mm_mapping *m);

#endif /* L4MM_MAPDB_INTERNAL_H */
