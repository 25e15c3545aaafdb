/*
 * test_mapdb_model_ref.h - the mapdb model, part 1: fuzzer/PRNG input, the environment
 * (node_alloc with fault injection, node_free, the shadow page table fed only by `changed`)
 * and the independent reference tree with verify(). Part 2 (test_mapdb_model_ops.h) drives
 * the database and the reference through random operations.
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
 * Used by tests/test_mapdb_model.c (cmocka, PRNG-driven) and fuzz/fuzz_mapdb.c (driven by
 * the fuzzer's bytes). Include test_mapdb_model_ops.h, which includes this file.
 */
#ifndef L4MM_TEST_MAPDB_MODEL_REF_H
#define L4MM_TEST_MAPDB_MODEL_REF_H

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

#endif /* L4MM_TEST_MAPDB_MODEL_REF_H */
