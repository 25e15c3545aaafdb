/*
 * buddy_range.c - the range operations (add, take, alloc_in) and unit_state, over the
 * representation in buddy_internal.h; the hot paths (alloc, free, split, merge, the pending
 * split) are in buddy.c.
 *
 * As there, every public function validates completely (reading only) before its first
 * write, so an error return leaves metadata and struct unchanged.
 */
#include "buddy/buddy_internal.h"

static inline void wr(struct l4mm_buddy *b, uint64_t w, uint64_t v)
{
    uint64_t old = b->meta[w];
    b->sig += (v - old) * bd_key(w);
    b->meta[w] = v;
}

/* Set (on) or clear bit idx of summary layer 1 of hierarchy `raw`, and propagate upward as
 * long as a word's zero-ness changes. Summary words are not in the signature: check()
 * recomputes every one of them from its children. */
static void sum_update(struct l4mm_buddy *b, unsigned k, int raw, uint64_t idx, int on)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t nw1 = (uint64_t)m->nw - 1u;
    uint64_t *p = b->meta + m->leaf + (raw ? m->nw : 0u);
    for (unsigned j = 1; j <= m->nl; j++) {
        uint64_t s = (nw1 >> (6u * j)) + 1u, *w, old, bit = (uint64_t)1 << (idx & 63u);
        if (!raw)
            p -= s;
        w = p + (idx >> 6);
        old = *w;
        if (on) {
            *w = old | bit;
            if (old)
                return;
        } else {
            *w = old & ~bit;
            if (old & ~bit)
                return;
        }
        if (raw)
            p += s;
        idx >>= 6;
    }
}

/* Replace leaf word wi (index within bitmap k) by v, maintaining both summaries. */
static inline void leaf_set(struct l4mm_buddy *b, unsigned k, uint64_t wi, uint64_t v)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t w = m->leaf + wi, old = b->meta[w];
    wr(b, w, v);
    if (m->nl == 0)
        return; /* a single leaf word: no summaries */
    if (k == L4MM_BUDDY_A0) {
        if ((old != 0) != (v != 0))
            sum_update(b, k, 1, wi, v != 0);
    } else {
        int t = k == b->top;
        uint64_t po = bd_markbits(old, t), pn = bd_markbits(v, t);
        uint64_t fo = old & ~(po | (po << 1)), fn = v & ~(pn | (pn << 1));
        if (L4MM_UNLIKELY((po != 0) != (pn != 0)))
            sum_update(b, k, 1, wi, pn != 0);
        if ((fo != 0) != (fn != 0))
            sum_update(b, k, 0, wi, fn != 0);
    }
}

static inline uint64_t leaf_filter(unsigned k, int raw, int t, uint64_t w)
{
    if (!raw)
        return bd_freebits(w, t);
    return k == L4MM_BUDDY_A0 ? w : bd_markbits(w, t);
}

/* First set bit with index >= from in bitmap k, in the free (raw == 0) or raw sense;
 * BD_NONE if none. O(L). */
static uint64_t next_set(const struct l4mm_buddy *b, unsigned k, int raw, uint64_t from)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t off[BD_MAXLAYERS + 1u];
    int t = k == b->top;
    uint64_t idx = from, word;
    unsigned j;

    off[0] = m->leaf;
    for (j = 1; j <= m->nl; j++)
        off[j] = raw ? (j == 1 ? (uint64_t)m->leaf + m->nw : off[j - 1u] + bd_lsz(m, j - 1u))
                     : off[j - 1u] - bd_lsz(m, j);
    /* climb until a layer holds a set bit at or after idx */
    for (j = 0;; j++) {
        if ((idx >> 6) >= bd_lsz(m, j))
            return BD_NONE;
        word = b->meta[off[j] + (idx >> 6)];
        if (j == 0)
            word = leaf_filter(k, raw, t, word);
        word &= ~(uint64_t)0 << (idx & 63u);
        if (word)
            break;
        if (j == m->nl)
            return BD_NONE;
        idx = (idx >> 6) + 1u;
    }
    idx = (idx & ~(uint64_t)63) + bd_ctz(word);
    /* descend to the leaf */
    while (j > 0) {
        j--;
        word = b->meta[off[j] + idx];
        if (j == 0)
            word = leaf_filter(k, raw, t, word);
        if (!word)
            return BD_NONE; /* damaged summary: report nothing rather than guess */
        idx = (idx << 6) + bd_ctz(word);
    }
    return idx;
}

/* Any bit of hierarchy `raw` of bitmap k among node indices [qlo, qhi] (absolute)? */
static int any_in(const struct l4mm_buddy *b, unsigned k, int raw, uint64_t qlo, uint64_t qhi)
{
    uint64_t lb = bd_lb(b, k);
    uint64_t p = next_set(b, k, raw, qlo - lb);
    return p != BD_NONE && p <= qhi - lb;
}

/* Set (on) or clear the order-top free bits of nodes [q, q + n): bulk middle of add/take. */
static void top_bulk(struct l4mm_buddy *b, uint64_t q, uint64_t n, int on)
{
    unsigned k = b->top;
    uint64_t i = q - bd_lb(b, k), e = i + n;
    while (i < e) {
        uint64_t wi = i >> 6, lo = i & 63u;
        uint64_t cnt = e - i < 64u - lo ? e - i : 64u - lo;
        uint64_t mask = (cnt == 64u ? ~(uint64_t)0 : (((uint64_t)1 << cnt) - 1u)) << lo;
        uint64_t w = b->meta[b->bm[k].leaf + wi];
        leaf_set(b, k, wi, on ? w | mask : w & ~mask);
        i += cnt;
    }
    if (on) {
        b->nblk[k] += n;
        b->free_units += n << k;
    } else {
        b->nblk[k] -= n;
        b->free_units -= n << k;
    }
    if (b->nblk[k])
        b->nonempty |= bd_bit(k);
    else
        b->nonempty &= ~(bd_bit(k));
}

/* Are all order-top bits of nodes [q, q + n) set (all free blocks)? */
static int top_all(const struct l4mm_buddy *b, uint64_t q, uint64_t n)
{
    unsigned k = b->top;
    uint64_t i = q - bd_lb(b, k), e = i + n;
    if (b->gh_s == BD_GH_LIVE && b->gh_j == k && ((b->gh_a >> b->unit_shift) >> k) - q < n)
        return 0; /* the live ghost split's block: its bit is written, but it is split */
    while (i < e) {
        uint64_t lo = i & 63u;
        uint64_t cnt = e - i < 64u - lo ? e - i : 64u - lo;
        uint64_t mask = (cnt == 64u ? ~(uint64_t)0 : (((uint64_t)1 << cnt) - 1u)) << lo;
        if ((b->meta[b->bm[k].leaf + (i >> 6)] & mask) != mask)
            return 0;
        i += cnt;
    }
    return 1;
}

/* Unit range [*x, *e] of a unit-aligned byte range wholly inside the instance. */
static int unit_range(const struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size, uint64_t *x,
                      uint64_t *e)
{
    uint64_t mask = ((uint64_t)1 << b->unit_shift) - 1u, n;
    if (size == 0 || (addr & mask) != 0 || (size & mask) != 0)
        return 0;
    *x = addr >> b->unit_shift;
    n = size >> b->unit_shift;
    if (*x < b->xb || *x > b->xl || n - 1u > b->xl - *x)
        return 0;
    *e = *x + (n - 1u);
    return 1;
}

/* Does free block (c, r) hold an aligned order-k block inside units [ulo, uhi]? */
static int fits(uint64_t r, unsigned c, unsigned k, uint64_t ulo, uint64_t uhi, uint64_t *s)
{
    uint64_t lo = r << c, hi = lo + ((bd_bit(c)) - 1u), a;
    uint64_t sz = bd_bit(k);
    if (lo < ulo)
        lo = ulo;
    if (hi > uhi)
        hi = uhi;
    if (lo > hi)
        return 0;
    a = (lo + (sz - 1u)) & ~(sz - 1u);
    if (a < lo || a > hi || hi - a < sz - 1u)
        return 0;
    *s = a;
    return 1;
}

/* Best fit for alloc_in among the written free blocks: the smallest order c >= k with a
 * block holding an aligned order-k block inside units [ulo, uhi]; read-only. O(m * L). */
static int find_in(const struct l4mm_buddy *b, unsigned k, uint64_t ulo, uint64_t uhi, unsigned *cp,
                   uint64_t *sp)
{
    for (unsigned c = k; c <= b->top; c++) {
        uint64_t lb, i, r;
        if (!((b->nonempty >> c) & 1u))
            continue;
        lb = bd_lb(b, c);
        i = next_set(b, c, 0, (ulo >> c) - lb);
        for (int tries = 0; tries < 2 && i != BD_NONE; tries++) {
            r = lb + i;
            if (r > (uhi >> c))
                break;
            if (L4MM_UNLIKELY(bd_ghost_top(b, c, r))) { /* written, but split: skip it */
                i = next_set(b, c, 0, i + 1u);
                tries--;
                continue;
            }
            if (fits(r, c, k, ulo, uhi, sp)) {
                *cp = c;
                return 1;
            }
            /* only a partial first block can fail while a later one fits */
            i = next_set(b, c, 0, i + 1u);
        }
    }
    return 0;
}

/* Does a pending block of a path (node t at order pk, pending orders pm below pj: the chain,
 * or a live ghost split) hold an aligned order-k block inside [ulo, uhi]? */
static int path_fits(uint64_t t, unsigned pk, unsigned pj, uint64_t pm, unsigned k, uint64_t ulo,
                     uint64_t uhi)
{
    uint64_t s;
    for (unsigned c = pk > k ? pk : k; c < pj; c++)
        if (((pm >> c) & 1u) && fits((t >> (c - pk)) ^ 1u, c, k, ulo, uhi, &s))
            return 1;
    return 0;
}

l4mm_status l4mm_buddy_alloc_in(struct l4mm_buddy *b, unsigned order, l4mm_addr_t lo,
                                l4mm_addr_t hi, l4mm_addr_t *out)
{
    uint64_t mask, ulo, uhi, s = 0, t;
    unsigned us, c = 0;
    if (!bd_live(b) || !out || order > b->max_order || lo >= hi)
        return L4MM_EINVAL;
    if (order > b->top)
        return L4MM_ENOMEM;
    us = b->unit_shift;
    mask = ((uint64_t)1 << us) - 1u;
    ulo = (lo >> us) + ((lo & mask) != 0);
    uhi = hi >> us; /* units below uhi end at or before hi */
    if (uhi == 0)
        return L4MM_ENOMEM;
    uhi--; /* inclusive */
    if (ulo < b->xb)
        ulo = b->xb;
    if (uhi > b->xl)
        uhi = b->xl;
    if (ulo > uhi)
        return L4MM_ENOMEM;
    if (!find_in(b, order, ulo, uhi, &c, &s)) {
        if (!path_fits(b->ch_t, b->ch_k, b->ch_j, b->ch_m, order, ulo, uhi) &&
            !(b->gh_s == BD_GH_LIVE &&
              path_fits(b->gh_a >> us, 0, b->gh_j, bd_bit(b->gh_j) - 1u, order, ulo, uhi)))
            return L4MM_ENOMEM;
        l4mm_buddy_materialize(b);
        if (!find_in(b, order, ulo, uhi, &c, &s))
            return L4MM_ENOMEM; /* only with damaged metadata; check() reports it */
    } else if (b->ch_j || b->gh_s == BD_GH_LIVE) {
        l4mm_buddy_materialize(b); /* the search again: a pending block may fit better */
        (void)find_in(b, order, ulo, uhi, &c, &s);
    } else {
        l4mm_buddy_settle(b); /* drops the memo */
    }
    t = s >> order;
    if (c - order >= BD_LAZY_MIN)
        l4mm_buddy_split(b, c, order, t, 1);
    else
        l4mm_buddy_split(b, c, order, t, 0);
    l4mm_buddy_mark(b, order, t);
    *out = s << us;
    return L4MM_OK;
}

/* Walk [x, e] as maximal aligned pieces of order <= top; `op` 0: validate add, 1: commit
 * add, 2: validate take, 3: commit take. Returns 0 when a validation fails. */
static int walk(struct l4mm_buddy *b, uint64_t x, uint64_t e, int op)
{
    unsigned top = b->top;
    uint64_t cur = x, topmask = (bd_bit(top)) - 1u;
    for (;;) {
        uint64_t rem = e - cur; /* units left minus one */
        unsigned k;
        if ((cur & topmask) == 0 && rem >= topmask) {
            uint64_t n = (rem >> top) + ((rem & topmask) == topmask);
            if (op == 2 && !top_all(b, cur >> top, n))
                return 0;
            if (op == 1 || op == 3)
                top_bulk(b, cur >> top, n, op == 1);
            if (rem - ((n << top) - 1u) == 0)
                return 1;
            cur += n << top;
            continue;
        }
        k = cur == 0 ? 63u : bd_ctz(cur);
        if (rem != UINT64_MAX && bd_log2(rem + 1u) < k)
            k = bd_log2(rem + 1u);
        if (k > top)
            k = top;
        if (op == 1) {
            l4mm_buddy_merge_in(b, k, cur >> k);
        } else if (op >= 2) {
            int j = l4mm_buddy_free_anc(b, k, cur >> k);
            if (j < 0)
                return 0;
            if (op == 3)
                l4mm_buddy_split(b, (unsigned)j, k, cur >> k, 0);
        }
        if (rem == (bd_bit(k)) - 1u)
            return 1;
        cur += bd_bit(k);
    }
}

l4mm_status l4mm_buddy_add(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size)
{
    uint64_t x, e;
    if (!bd_live(b) || !unit_range(b, addr, size, &x, &e))
        return L4MM_EINVAL;
    /* every unit reserved: no bit of any order, and no order-0 allocation, meets [x, e] */
    if (any_in(b, L4MM_BUDDY_A0, 1, x, e))
        return L4MM_EBUSY;
    for (unsigned k = 0; k <= b->top; k++) {
        /* a free block meeting the range, or a marker pair whose parent meets it (the
         * marker bit sits on the even child, which may lie just before the range) */
        if (any_in(b, k, 0, x >> k, e >> k) ||
            (k < b->top && any_in(b, k, 1, (x >> k) & ~(uint64_t)1, e >> k)))
            return L4MM_EBUSY;
    }
    /* (a live ghost split's block has its free bit written: found above) */
    if (b->ch_j) { /* the pending split's block holds an allocated block: not reserved */
        uint64_t lo = (b->ch_t >> (b->ch_j - b->ch_k)) << b->ch_j;
        if (!(lo + (bd_bit(b->ch_j) - 1u) < x || lo > e))
            return L4MM_EBUSY;
    }
    l4mm_buddy_materialize(b);
    (void)walk(b, x, e, 1);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_take(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size)
{
    uint64_t x, e;
    if (!bd_live(b) || !unit_range(b, addr, size, &x, &e))
        return L4MM_EINVAL;
    if (!walk(b, x, e, 2))
        return L4MM_EBUSY;
    l4mm_buddy_materialize(b);
    (void)walk(b, x, e, 3);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_unit_state(const struct l4mm_buddy *b, l4mm_addr_t addr, int *state)
{
    uint64_t x;
    if (!bd_live(b) || !state)
        return L4MM_EINVAL;
    x = addr >> b->unit_shift;
    if (x < b->xb || x > b->xl)
        return L4MM_EINVAL;
    if (bd_test(b, L4MM_BUDDY_A0, x) || bd_ghost_blk(b, 0, x)) { /* A0, or a ghost's */
        *state = 2;
        return L4MM_OK;
    }
    for (unsigned k = 0; k <= b->top; k++) {
        if (bd_isfree_v(b, k, x >> k)) {
            *state = 1;
            return L4MM_OK;
        }
        if (k > 0 && bd_isalloc(b, k, x >> k)) {
            *state = 2;
            return L4MM_OK;
        }
    }
    *state = 0;
    return L4MM_OK;
}
