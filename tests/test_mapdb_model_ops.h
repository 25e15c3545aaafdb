/*
 * test_mapdb_model_ops.h - the mapdb model, part 2: the random operations (root, map, grant,
 * unmap, budgeted unmap start/step, find) applied to the database and to the reference of
 * test_mapdb_model_ref.h, and the model's init / one step / drain.
 */
#ifndef L4MM_TEST_MAPDB_MODEL_OPS_H
#define L4MM_TEST_MAPDB_MODEL_OPS_H

#include "test_mapdb_model_ref.h"

/* ---- operations -------------------------------------------------------------------------- */

static void op_root(struct model *m)
{
    int slot = ref_new(m);
    if (slot < 0)
        return;
    unsigned order = m_pick(m, 2) ? 30u : 21u;
    l4mm_addr_t pa = (l4mm_addr_t)m_pick(m, 8) << 30;
    if (order == 21u)
        pa += (l4mm_addr_t)m_pick(m, 4) << 21;
    l4mm_space_id sp = m_pick(m, MSPACES);
    l4mm_addr_t va = fresh_vaddr(m);
    unsigned rights = random_rights(m);
    int same = -1;
    bool busy = false;
    if (m_pick(m, 3) == 0) { /* repeat an existing root */
        for (int i = 0; i < MREFS; i++) {
            if (m->ref[i].used && m->ref[i].parent < 0) {
                sp = m->ref[i].space;
                va = m->ref[i].vaddr;
                pa = m->ref[i].paddr;
                order = m->ref[i].order;
                break;
            }
        }
    }
    int u = m_lookup(m, sp, va);
    if (u >= 0 && (m->ref[u].parent >= 0 || m->ref[u].paddr != pa || m->ref[u].order != order))
        return; /* (space, vaddr) in use by another mapping: a kernel would not do this */
    for (int i = 0; i < MREFS; i++) {
        const struct mref *r = &m->ref[i];
        if (!r->used || r->parent >= 0)
            continue;
        l4mm_addr_t rl = r->paddr + ((UINT64_C(1) << r->order) - 1u);
        l4mm_addr_t l = pa + ((UINT64_C(1) << order) - 1u);
        if (r->paddr <= l && pa <= rl) {
            if (r->space == sp && r->vaddr == va && r->paddr == pa && r->order == order)
                same = i;
            else
                busy = true;
        }
    }
    m->fail_alloc = m_pick(m, 8) == 0;
    size_t a0 = m->allocs;
    l4mm_mapping *h = NULL;
    l4mm_status s = l4mm_mapdb_root(&m->db, sp, va, pa, order, rights, &h);
    m->fail_alloc = false;
    m_stat(m, S_ROOT, s);
    if (rights == 0 || rights > L4MM_RWX) {
        MCHECK(s == L4MM_EINVAL);
    } else if (same >= 0) {
        MCHECK(s == L4MM_OK && h == m->ref[same].h && m->allocs == a0);
    } else if (busy) {
        MCHECK(s == L4MM_EBUSY);
    } else if (m->allocs == a0) {
        MCHECK(s == L4MM_ENOMEM);
    } else {
        MCHECK(s == L4MM_OK);
        ref_add(m, slot, h, -1);
        m->ref[slot].hi = rights;
    }
}

static void op_map(struct model *m)
{
    int f = random_near_op(m), slot = ref_new(m);
    if (f < 0 || slot < 0)
        return;
    const struct mref *from = &m->ref[f];
    unsigned fo = from->order;
    unsigned order = fo - m_pick(m, fo - 11u); /* 12 .. fo */
    unsigned pieces = 1u << ((fo - order) > 12u ? 12u : (fo - order));
    l4mm_addr_t off = (l4mm_addr_t)m_pick(m, pieces) << order;
    l4mm_addr_t va = fresh_vaddr(m);
    l4mm_space_id to = m_pick(m, MSPACES);
    unsigned rights = random_rights(m), bad = m_pick(m, 16);
    if (bad == 0)
        off += UINT64_C(1) << fo; /* outside */
    if (bad == 1)
        va += 0x800; /* misaligned */
    if (m_lookup(m, to, va) >= 0)
        return;
    unsigned eff = rights & m_srights[f];
    m->fail_alloc = m_pick(m, 8) == 0;
    size_t a0 = m->allocs;
    l4mm_mapping *h = NULL;
    l4mm_status s = l4mm_mapdb_map(&m->db, from->h, off, order, to, va, rights, &h);
    m->fail_alloc = false;
    m_stat(m, S_MAP, s);
    if (rights > L4MM_RWX || bad <= 1 || from->depth >= L4MM_MAPDB_MAX_DEPTH) {
        MCHECK(s == L4MM_EINVAL);
    } else if (eff == 0) {
        MCHECK(s == L4MM_EPERM);
    } else if (m->allocs == a0) {
        MCHECK(s == L4MM_ENOMEM);
    } else {
        MCHECK(s == L4MM_OK);
        ref_add(m, slot, h, f);
        struct mref *c = &m->ref[slot];
        MCHECK(m_srights[slot] == eff && c->paddr == from->paddr + off);
        MCHECK(c->depth == from->depth + 1u && c->order == order && c->space == to);
        c->hi = rights & from->hi;
    }
}

static void op_grant(struct model *m)
{
    int g = random_near_op(m);
    if (g < 0)
        return;
    struct mref *r = &m->ref[g];
    l4mm_space_id to = m_pick(m, MSPACES);
    l4mm_addr_t va = fresh_vaddr(m);
    unsigned rights = random_rights(m), bad = m_pick(m, 16);
    if (bad == 0)
        va += UINT64_C(1) << 11;
    if (m_lookup(m, to, va) >= 0)
        return;
    unsigned old = m_srights[g], eff = rights & old;
    l4mm_mapping *h = NULL;
    m->granting = g;
    l4mm_status s = l4mm_mapdb_grant(&m->db, r->h, to, va, rights, &h);
    m->granting = -1;
    m_stat(m, S_GRANT, s);
    if (rights > L4MM_RWX || bad == 0) {
        MCHECK(s == L4MM_EINVAL);
    } else if (eff == 0) {
        MCHECK(s == L4MM_EPERM);
    } else if (is_target(m, g)) {
        MCHECK(s == L4MM_EBUSY);
    } else {
        MCHECK(s == L4MM_OK && h == r->h && !r->present);
        ref_unmap(m, g, old & ~eff, 0);
        r->present = true;
        r->space = to;
        r->vaddr = va;
        r->hi &= eff;
        m_srights[g] = eff; /* learned from the result */
        struct l4mm_mapping_info inf;
        l4mm_mapdb_info(h, &inf);
        MCHECK(inf.rights == eff && inf.space == to && inf.vaddr == va);
    }
}

static void op_unmap(struct model *m)
{
    int t = random_near_op(m);
    if (t < 0)
        return;
    unsigned rights = random_rights(m);
    unsigned flags = m_pick(m, 7) == 0 ? 2u : (m_pick(m, 2) ? L4MM_UNMAP_SELF : 0u);
    l4mm_status s = l4mm_mapdb_unmap(&m->db, m->ref[t].h, rights, flags);
    m_stat(m, S_UNMAP, s);
    if (rights > L4MM_RWX || flags > 1u) {
        MCHECK(s == L4MM_EINVAL);
        return;
    }
    MCHECK(s == L4MM_OK);
    ref_unmap(m, t, rights, flags);
}

static int random_root(struct model *m)
{
    int t = random_live(m);
    while (t >= 0 && m->ref[t].parent >= 0 && m_pick(m, 2) == 0)
        t = m->ref[t].parent;
    return t;
}

static void op_start(struct model *m)
{
    int t = random_root(m);
    unsigned k = m_pick(m, MOPS);
    if (t < 0)
        return;
    struct mop *o = &m->ops[k];
    unsigned rights = random_rights(m);
    unsigned flags = m_pick(m, 9) == 0 ? 4u : (m_pick(m, 2) ? L4MM_UNMAP_SELF : 0u);
    unsigned reports = m->reports;
    l4mm_status s = l4mm_mapdb_unmap_start(&m->db, &o->op, m->ref[t].h, rights, flags);
    MCHECK(m->reports == reports); /* no work */
    m_stat(m, S_START, s);
    if (rights > L4MM_RWX || flags > 1u || o->active) {
        MCHECK(s == L4MM_EINVAL);
        return;
    }
    MCHECK(s == L4MM_OK);
    o->active = true;
    o->target = t;
    o->rights = rights;
    o->flags = flags;
}

static void finish_op(struct model *m, struct mop *o)
{
    if (o->target >= 0)
        ref_unmap(m, o->target, o->rights, o->flags);
    o->active = false;
}

static void op_step(struct model *m, unsigned k, unsigned budget)
{
    struct mop *o = &m->ops[k];
    unsigned reports = m->reports;
    size_t frees = m->frees;
    l4mm_status s = l4mm_mapdb_unmap_step(&m->db, &o->op, budget);
    MCHECK(m->reports - reports <= budget && m->frees - frees <= budget);
    m_stat(m, S_STEP, s);
    if (s == L4MM_OK && o->target < 0)
        m_stat(m, S_GONE, s);
    if (budget == 0 || !o->active) {
        MCHECK(s == L4MM_EINVAL);
        return;
    }
    MCHECK(s == L4MM_OK || s == L4MM_EAGAIN);
    if (s == L4MM_OK)
        finish_op(m, o);
}

static void op_find(struct model *m)
{
    l4mm_addr_t pa = (l4mm_addr_t)m_pick(m, 9) << 30;
    pa += (l4mm_addr_t)m_pick(m, 1u << 16) << 14;
    l4mm_space_id sp = m_pick(m, MSPACES);
    int near = random_live(m);
    if (near >= 0 && m_pick(m, 2) == 0) {
        pa = m->ref[near].paddr + (m_pick(m, 1u << 16) & ((1u << m->ref[near].order) - 1u));
        if (m_pick(m, 2) == 0)
            sp = m->ref[near].space;
    }
    bool exists = false;
    for (int i = 0; i < MREFS; i++) {
        const struct mref *r = &m->ref[i];
        if (r->used && r->space == sp && r->paddr <= pa &&
            pa - r->paddr < (UINT64_C(1) << r->order))
            exists = true;
    }
    l4mm_mapping *h = NULL;
    l4mm_status s = l4mm_mapdb_find(&m->db, pa, sp, &h);
    m_stat(m, S_FIND, s);
    if (!exists) {
        MCHECK(s == L4MM_ENOENT);
        return;
    }
    MCHECK(s == L4MM_OK);
    struct l4mm_mapping_info inf;
    l4mm_mapdb_info(h, &inf);
    MCHECK(inf.space == sp && inf.paddr <= pa && pa - inf.paddr < (UINT64_C(1) << inf.order));
}

static void model_init(struct model *m)
{
    memset(m->ref, 0, sizeof m->ref);
    memset(m->ops, 0, sizeof m->ops);
    memset(m_srights, 0, sizeof m_srights);
    memset(m_stamp, 0, sizeof m_stamp);
    m->allocs = m->frees = 0;
    m->fail_alloc = false;
    m->reports = 0;
    m->call = 1;
    m->granting = -1;
    m->vctr = 0;
    struct l4mm_mapdb_ops ops = { m_alloc, m_free, m_changed, m };
    MCHECK(l4mm_mapdb_init(&m->db, &ops) == L4MM_OK);
}

static void model_one(struct model *m)
{
    unsigned c = m_pick(m, 32);
    if (live_count(m) > MLIVE && c < 16)
        c += 16; /* prefer removal */
    m->call++;
    if (c < 3)
        op_root(m);
    else if (c < 15)
        op_map(m);
    else if (c < 17)
        op_grant(m);
    else if (c < 19)
        op_unmap(m);
    else if (c < 21)
        op_start(m);
    else if (c < 30) {
        unsigned k = m_pick(m, MOPS);
        for (unsigned j = 0; j < MOPS && !m->ops[k].active && m_pick(m, 8) != 0; j++)
            k = (k + 1u) % MOPS; /* mostly a running one */
        op_step(m, k, m_pick(m, 40) == 0 ? 0u : 1u + m_pick(m, m_pick(m, 2) ? 3u : 12u));
    } else
        op_find(m);
    verify(m);
}

/* Finishes every operation, then unmaps everything: every node must come back. */
static void model_drain(struct model *m)
{
    for (unsigned k = 0; k < MOPS; k++) {
        size_t guard = 4u * (m->db.nodes + 4u);
        while (m->ops[k].active) {
            MCHECK(guard-- > 0); /* bounded: no livelock without other ops */
            m->call++;
            op_step(m, k, 1);
            verify(m);
        }
    }
    for (int i = 0; i < MREFS; i++) {
        if (m->ref[i].used && m->ref[i].parent < 0) {
            m->call++;
            MCHECK(l4mm_mapdb_unmap(&m->db, m->ref[i].h, L4MM_RWX, L4MM_UNMAP_SELF) == L4MM_OK);
            ref_unmap(m, i, L4MM_RWX, L4MM_UNMAP_SELF);
            verify(m);
        }
    }
    MCHECK(m->db.nodes == 0 && live_count(m) == 0);
    MCHECK(m->allocs == m->frees); /* no leak */
}

#endif /* L4MM_TEST_MAPDB_MODEL_OPS_H */
