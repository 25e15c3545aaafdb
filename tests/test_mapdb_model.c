/*
 * test_mapdb_model.c - randomized, model-based test of the mapping database.
 *
 * Three views are kept and compared after every operation and every unmap step:
 *  - the database itself (through l4mm_mapdb_info, _find and _check);
 *  - a shadow page table fed ONLY by `changed` callbacks and by the results of successful
 *    calls, as a kernel would keep its page tables;
 *  - an independent reference tree (parent indices, rights) that predicts every status and
 *    every effect. While budgeted unmaps run, the reference knows each mapping's rights only
 *    within bounds: [hi & ~pending, hi], pending being the rights a running operation over
 *    it will remove; when an operation finishes the reference applies its whole effect.
 * node_alloc fails at random (fault injection); budgeted unmaps interleave with everything;
 * every node_alloc must be matched by a node_free once everything is unmapped.
 *
 * fuzz/fuzz_mapdb.c includes this file with MAPDB_MODEL_NO_MAIN and drives the same model
 * from the fuzzer's bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapdb/mapdb_internal.h"

#define MCHECK(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "mapdb model: %s:%d: %s\n", __FILE__, __LINE__, #c);                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MREFS   512 /* reference nodes (live mappings) at most */
#define MOPS    4   /* budgeted operations at once */
#define MLIVE   160 /* above this, the driver prefers unmaps */
#define MSPACES 6u

struct mref {
    l4mm_mapping *h;
    int parent; /* -1 for a root */
    bool used;
    bool present; /* in the shadow page table */
    l4mm_space_id space;
    l4mm_addr_t vaddr, paddr;
    unsigned order, depth, hi, kids_present;
};

struct mop {
    struct l4mm_mapdb_op op;
    bool active;
    int target; /* ref index, -1 once the target is gone */
    unsigned rights, flags;
};

struct model {
    /* input */
    const uint8_t *data;
    size_t size, pos;
    uint64_t rng;
    bool from_data;
    /* environment */
    size_t allocs, frees;
    bool fail_alloc;
    unsigned reports, call;
    int granting; /* ref whose holder change grant reports */
    struct l4mm_mapdb db;
    /* shadow page table: (space, vaddr) -> ref index, rights */
    struct mref ref[MREFS];
    struct mop ops[MOPS];
    uint64_t vctr;
    unsigned long stat[L4MM_ECORRUPT + 1][8]; /* [status][operation] */
    unsigned maxdepth, maxlive;
};

enum { S_ROOT, S_MAP, S_GRANT, S_UNMAP, S_START, S_STEP, S_FIND, S_GONE };

static void m_stat(struct model *m, unsigned what, l4mm_status s)
{
    m->stat[s][what]++;
}

/* ---- input ------------------------------------------------------------------------------- */

static unsigned m_byte(struct model *m)
{
    if (m->from_data)
        return m->pos < m->size ? m->data[m->pos++] : 0u;
    uint64_t x = m->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m->rng = x;
    return (unsigned)((x * 0x2545F4914F6CDD1DULL) >> 56);
}

static unsigned m_pick(struct model *m, unsigned n)
{
    unsigned v = m_byte(m);
    if (n > 256u)
        v = (v << 8) | m_byte(m);
    return n ? v % n : 0u;
}

/* ---- environment ------------------------------------------------------------------------- */

static void *m_alloc(void *ctx)
{
    struct model *m = ctx;
    if (m->fail_alloc)
        return NULL;
    m->allocs++;
    return malloc(L4MM_MAPDB_NODE_SIZE);
}

static void m_free(void *ctx, void *node)
{
    struct model *m = ctx;
    m->frees++;
    memset(node, 0xdb, L4MM_MAPDB_NODE_SIZE);
    free(node);
}

static int m_lookup(const struct model *m, l4mm_space_id s, l4mm_addr_t va)
{
    for (int i = 0; i < MREFS; i++)
        if (m->ref[i].used && m->ref[i].present && m->ref[i].space == s && m->ref[i].vaddr == va)
            return i;
    return -1;
}

static unsigned pending(const struct model *m, int i);

/* The kernel's side: fix the shadow page table. */
static unsigned m_srights[MREFS]; /* shadow rights (kept apart from the reference's `hi`) */
static unsigned m_stamp[MREFS];   /* call in which a mapping was last reported */

static void m_changed(void *ctx, l4mm_space_id space, l4mm_addr_t vaddr, unsigned order,
                      unsigned old_rights, unsigned new_rights)
{
    struct model *m = ctx;
    int i = m_lookup(m, space, vaddr);
    MCHECK(i >= 0);                /* only mappings that existed before the call */
    MCHECK(m_stamp[i] != m->call); /* each at most once per call */
    MCHECK(m->ref[i].order == order);
    MCHECK(m_srights[i] == old_rights);
    MCHECK(new_rights != old_rights && (new_rights & ~old_rights) == 0);
    m_stamp[i] = m->call;
    m->reports++;
    int p = m->ref[i].parent;
    if (new_rights != 0) {
        m_srights[i] = new_rights;
        /* beyond the parent only what running operations over it still remove */
        MCHECK(p < 0 || (new_rights & ~m_srights[p] & ~pending(m, i)) == 0);
        return;
    }
    m_srights[i] = 0;
    m->ref[i].present = false;
    if (i == m->granting)
        return; /* the holder's loss in a grant: the node lives on with its children */
    MCHECK(m->ref[i].kids_present == 0); /* bottom-up: children went first */
    if (p >= 0)
        m->ref[p].kids_present--;
}

/* ---- reference tree ---------------------------------------------------------------------- */

static bool is_ancestor(const struct model *m, int a, int i)
{
    for (int p = m->ref[i].parent; p >= 0; p = m->ref[p].parent)
        if (p == a)
            return true;
    return false;
}

static unsigned pending(const struct model *m, int i)
{
    unsigned r = 0;
    for (int k = 0; k < MOPS; k++) {
        const struct mop *o = &m->ops[k];
        if (!o->active || o->target < 0)
            continue;
        if ((o->target == i && (o->flags & L4MM_UNMAP_SELF)) || is_ancestor(m, o->target, i))
            r |= o->rights;
    }
    return r;
}

static int ref_new(struct model *m)
{
    for (int i = 0; i < MREFS; i++)
        if (!m->ref[i].used)
            return i;
    return -1;
}

static void ref_add(struct model *m, int i, l4mm_mapping *h, int parent)
{
    struct l4mm_mapping_info inf;
    l4mm_mapdb_info(h, &inf);
    struct mref *r = &m->ref[i];
    r->h = h;
    r->parent = parent;
    r->used = true;
    r->present = true;
    r->space = inf.space;
    r->vaddr = inf.vaddr;
    r->paddr = inf.paddr;
    r->order = inf.order;
    r->depth = inf.depth;
    r->kids_present = 0;
    m_srights[i] = inf.rights; /* learned from the result */
    m_stamp[i] = 0;
    if (parent >= 0)
        m->ref[parent].kids_present++;
}

/* Drops reference nodes the database deleted (absent from the shadow). */
static void ref_drop(struct model *m, int i)
{
    MCHECK(!m->ref[i].present);
    for (int k = 0; k < MOPS; k++)
        if (m->ops[k].active && m->ops[k].target == i)
            m->ops[k].target = -1;
    m->ref[i].used = false;
}

/* The whole effect of an unmap of `rights` from t's subtree (and t with SELF). */
static void ref_unmap(struct model *m, int t, unsigned rights, unsigned flags)
{
    for (int i = 0; i < MREFS; i++) {
        if (!m->ref[i].used)
            continue;
        if ((i == t && (flags & L4MM_UNMAP_SELF)) || is_ancestor(m, t, i))
            m->ref[i].hi &= ~rights;
    }
}

/* Compares all three views; drops mappings the database deleted. */
static void verify(struct model *m)
{
    MCHECK(l4mm_mapdb_check(&m->db) == L4MM_OK);
    /* deleted mappings: absent from the shadow, allowed only if nothing is certain (judged
     * with the operations as they ran: all checked before any target is dropped) */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < MREFS; i++) {
            struct mref *r = &m->ref[i];
            if (!r->used || r->present)
                continue;
            if (pass == 0)
                MCHECK((r->hi & ~pending(m, i)) == 0);
            else
                ref_drop(m, i);
        }
    }
    size_t live = 0;
    for (int i = 0; i < MREFS; i++) {
        struct mref *r = &m->ref[i];
        if (!r->used)
            continue;
        live++;
        MCHECK(r->parent < 0 || m->ref[r->parent].used);
        unsigned s = m_srights[i], lo = r->hi & ~pending(m, i);
        MCHECK(s != 0 && (s & ~r->hi) == 0 && (lo & ~s) == 0);
        MCHECK(r->parent < 0 || (s & ~m_srights[r->parent] & ~pending(m, i)) == 0);
        struct l4mm_mapping_info inf;
        l4mm_mapdb_info(r->h, &inf);
        MCHECK(inf.space == r->space && inf.vaddr == r->vaddr && inf.paddr == r->paddr);
        MCHECK(inf.order == r->order && inf.depth == r->depth && inf.rights == s);
        m->maxdepth = inf.depth > m->maxdepth ? inf.depth : m->maxdepth;
    }
    m->maxlive = live > m->maxlive ? (unsigned)live : m->maxlive;
    MCHECK(live == m->db.nodes);
    MCHECK(m->allocs - m->frees == live); /* one node per mapping, nothing else */
}

static int random_live(struct model *m)
{
    int n = 0;
    for (int i = 0; i < MREFS; i++)
        n += m->ref[i].used;
    if (n == 0)
        return -1;
    int k = (int)m_pick(m, (unsigned)n);
    if (m_pick(m, 4) == 0) { /* sometimes the deepest, to grow chains */
        int best = -1;
        for (int i = 0; i < MREFS; i++)
            if (m->ref[i].used && (best < 0 || m->ref[i].depth > m->ref[best].depth))
                best = i;
        return best;
    }
    for (int i = 0; i < MREFS; i++)
        if (m->ref[i].used && k-- == 0)
            return i;
    return -1;
}

/* Often a running operation's target or a mapping below it: where the interleavings are
 * (maps from the target behind the cursor, from nodes waiting for deletion, deletions of
 * cursors and targets by other operations). */
static int random_near_op(struct model *m)
{
    if (m_pick(m, 3) != 0)
        return random_live(m);
    unsigned k0 = m_pick(m, MOPS);
    for (unsigned j = 0; j < MOPS; j++) {
        const struct mop *o = &m->ops[(k0 + j) % MOPS];
        if (!o->active || o->target < 0)
            continue;
        if (m_pick(m, 2) == 0)
            return o->target;
        unsigned n = 0;
        for (int i = 0; i < MREFS; i++)
            n += m->ref[i].used && is_ancestor(m, o->target, i);
        if (n == 0)
            return o->target;
        unsigned k = m_pick(m, n);
        for (int i = 0; i < MREFS; i++)
            if (m->ref[i].used && is_ancestor(m, o->target, i) && k-- == 0)
                return i;
    }
    return random_live(m);
}

static size_t live_count(const struct model *m)
{
    size_t n = 0;
    for (int i = 0; i < MREFS; i++)
        n += m->ref[i].used;
    return n;
}

static l4mm_addr_t fresh_vaddr(struct model *m)
{
    m->vctr = (m->vctr + 1u) & 0xfffffu;
    return (l4mm_addr_t)m->vctr << 30;
}

static unsigned random_rights(struct model *m)
{
    if (m_pick(m, 3) == 0)
        return L4MM_RWX;
    return m_pick(m, 9); /* 8 is invalid */
}

static bool is_target(const struct model *m, int i)
{
    for (int k = 0; k < MOPS; k++)
        if (m->ops[k].active && m->ops[k].target == i)
            return true;
    return false;
}

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

#ifndef MAPDB_MODEL_NO_MAIN
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

static struct model g_model;

static void run_model(uint64_t seed, size_t nops)
{
    struct model *m = &g_model;
    memset(m, 0, sizeof *m);
    m->rng = seed;
    model_init(m);
    for (size_t i = 0; i < nops; i++)
        model_one(m);
    model_drain(m);
    if (getenv("L4MM_MODEL_STATS")) {
        static const char *const names[] = { "root",  "map",  "grant", "unmap",
                                             "start", "step", "find",  "gone" };
        for (unsigned w = 0; w < 8; w++) {
            printf("%-6s", names[w]);
            for (unsigned st = 0; st <= L4MM_ECORRUPT; st++)
                printf(" %s=%lu", l4mm_strerror((l4mm_status)st), m->stat[st][w]);
            printf("\n");
        }
        printf("max depth %u, max live %u, allocs %zu\n", m->maxdepth, m->maxlive, m->allocs);
    }
}

/* 3 * 10^5 operations; 10^5 under sanitizers (about 10x slower) to stay within the suite's
 * time budget; L4MM_MODEL_OPS overrides both. */
#if defined(__SANITIZE_ADDRESS__)
#define MODEL_DEFAULT_OPS 100000u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MODEL_DEFAULT_OPS 100000u
#endif
#endif
#ifndef MODEL_DEFAULT_OPS
#define MODEL_DEFAULT_OPS 300000u
#endif

static size_t model_ops(void)
{
    const char *e = getenv("L4MM_MODEL_OPS");
    return e ? (size_t)strtoull(e, NULL, 10) : MODEL_DEFAULT_OPS;
}

static void test_mapdb_model_random_ops_agree_with_reference(void **state)
{
    (void)state;
    size_t n = model_ops();
    for (uint64_t seed = 1; seed <= 4; seed++)
        run_model(seed * 0x9E3779B97F4A7C15ULL, n / 4u);
    assert_int_equal(g_model.allocs, g_model.frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapdb_model_random_ops_agree_with_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
