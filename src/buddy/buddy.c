/*
 * buddy.c - allocation, free, add, take over the bitmap representation described in
 * buddy_internal.h and docs/buddy.md.
 *
 * Every public function validates completely (reading only) before its first write, so an
 * error return leaves metadata and struct unchanged (seL4's decode/commit split).
 *
 * Split, for alloc of order 0 from a free order-2 block at node q (orders drawn upward):
 *
 *   order 2:  [        q        ]  free        ->  [        q        ]  (bit cleared)
 *   order 1:  [  2q   ][  2q+1  ]                  [  2q   ][  2q+1  ]  2q+1 becomes free
 *   order 0:  [4q][4q+1]                           [4q][4q+1]           4q+1 free, 4q in A0
 *
 * Free walks the same path upward: while the buddy is a free block, clear it and go up.
 */
#include "buddy/buddy_internal.h"

/* ---- word writes with signature and summary maintenance ------------------------------ */

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

/* Store v (replacing old) in leaf word w, keeping the signature. */
static inline void put(struct l4mm_buddy *b, uint64_t w, uint64_t old, uint64_t v)
{
    b->meta[w] = v;
    b->sig += (v - old) * bd_key(w);
}

/* Set the free-block bit of node (k, q), whose pair is 00 (or, at top, whose own bit is 0).
 * Markers cannot change; the free summary only if the word had no free bit. */
static inline void fset(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t i = q - bd_lb(b, k), w = m->leaf + (i >> 6), old = b->meta[w];
    put(b, w, old, old | ((uint64_t)1 << (i & 63u)));
    if (m->nl && !bd_freebits(old, k == b->top))
        sum_update(b, k, 0, i >> 6, 1);
    b->nblk[k]++;
    b->nonempty |= bd_bit(k);
    b->free_units += bd_bit(k);
}

/* Clear the free-block bit of the free block (k, q). */
static inline void fclr(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t i = q - bd_lb(b, k), w = m->leaf + (i >> 6), old = b->meta[w];
    uint64_t v = old & ~((uint64_t)1 << (i & 63u));
    put(b, w, old, v);
    if (m->nl && !bd_freebits(v, k == b->top))
        sum_update(b, k, 0, i >> 6, 0);
    if (--b->nblk[k] == 0)
        b->nonempty &= ~(bd_bit(k));
    b->free_units -= bd_bit(k);
}

/* Mark (on) or unmark node (k, t) as an allocated block: its children's pair 00 <-> 11 at
 * order k - 1 (free bits unchanged), or its A0 bit for k = 0. */
static inline void mark(struct l4mm_buddy *b, unsigned k, uint64_t t, int on)
{
    unsigned id = k == 0 ? (unsigned)L4MM_BUDDY_A0 : k - 1u;
    const struct l4mm_buddy_bm *m = &b->bm[id];
    uint64_t i = k == 0 ? t - b->xb : (t << 1) - bd_lb(b, k - 1u);
    uint64_t bits = (uint64_t)(k == 0 ? 1u : 3u) << (i & 63u);
    uint64_t w = m->leaf + (i >> 6), old = b->meta[w], v = on ? old | bits : old & ~bits;
    put(b, w, old, v);
    if (m->nl) {
        uint64_t before = k == 0 ? old : bd_markbits(old, 0);
        uint64_t after = k == 0 ? v : bd_markbits(v, 0);
        if ((before != 0) != (after != 0))
            sum_update(b, id, 1, i >> 6, after != 0);
    }
    if (on) {
        b->alloc_units += bd_bit(k);
        b->alloc_blocks++;
    } else {
        b->alloc_units -= bd_bit(k);
        b->alloc_blocks--;
    }
}

/* ---- searches -------------------------------------------------------------------------- */

static inline uint64_t leaf_filter(unsigned k, int raw, int t, uint64_t w)
{
    if (!raw)
        return bd_freebits(w, t);
    return k == L4MM_BUDDY_A0 ? w : bd_markbits(w, t);
}

/* First free block of order k (lowest index), descending from the top word; BD_NONE if
 * none. O(L). */
static inline uint64_t first_free(const struct l4mm_buddy *b, unsigned k)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t nw1 = (uint64_t)m->nw - 1u, idx = 0, word;
    const uint64_t *p = b->meta + m->ftop;
    for (unsigned j = m->nl; j > 0; j--) {
        word = p[idx];
        if (L4MM_UNLIKELY(!word))
            return BD_NONE;
        idx = (idx << 6) + bd_ctz(word);
        p += (nw1 >> (6u * j)) + 1u; /* skip layer j: now at layer j - 1 */
    }
    word = bd_freebits(p[idx], k == b->top);
    if (L4MM_UNLIKELY(!word))
        return BD_NONE;
    return (idx << 6) + bd_ctz(word);
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

/* Order of the free block containing node (k, t), or -1 if (k, t) is not wholly free. */
static int free_anc(const struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    for (unsigned j = k; j <= b->top; j++)
        if (bd_isfree(b, j, t >> (j - k)))
            return (int)j;
    return -1;
}

/* ---- mutations (arguments already validated) ------------------------------------------- */

/* Turn the free block (j, t >> (j - k)) into reserved (k, t) plus free remainders. */
static void split(struct l4mm_buddy *b, unsigned j, unsigned k, uint64_t t)
{
    fclr(b, j, t >> (j - k));
    for (unsigned i = j; i > k; i--)
        fset(b, i - 1u, (t >> (i - 1u - k)) ^ 1u);
}

/* Make the reserved-or-allocated-and-unmarked node (k, q) free, merging with buddies. */
static void merge_in(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    while (k < b->top && bd_test(b, k, q ^ 1u)) {
        fclr(b, k, q ^ 1u);
        q >>= 1;
        k++;
    }
    fset(b, k, q);
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

/* ---- argument checks --------------------------------------------------------------------- */

static int live(const struct l4mm_buddy *b)
{
    return b && b->magic == BD_MAGIC && b->meta;
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

/* Node (order, t) for a block address, if aligned and wholly inside the range. */
static inline int block_node(const struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order,
                             uint64_t *t)
{
    uint64_t x, last;
    if (L4MM_UNLIKELY(order > b->max_order))
        return 0;
    if (L4MM_UNLIKELY((addr & (bd_bit(b->unit_shift + order) - 1u)) != 0))
        return 0;
    x = addr >> b->unit_shift;
    last = x + (bd_bit(order) - 1u); /* cannot wrap: x < 2^(64 - shift - order) * 2^order */
    if (L4MM_UNLIKELY(x < b->xb || last > b->xl))
        return 0;
    *t = x >> order;
    return 1;
}

/* ---- public API ---------------------------------------------------------------------------- */

l4mm_status l4mm_buddy_alloc(struct l4mm_buddy *b, unsigned order, l4mm_addr_t *out)
{
    uint64_t mask, i, q, t;
    unsigned c;
    if (L4MM_UNLIKELY(!live(b) || !out || order > b->max_order))
        return L4MM_EINVAL;
    if (L4MM_UNLIKELY(order > b->top))
        return L4MM_ENOMEM;
    mask = b->nonempty & (~(uint64_t)0 << order);
    if (L4MM_UNLIKELY(!mask))
        return L4MM_ENOMEM;
    c = bd_ctz(mask);
    i = first_free(b, c);
    if (L4MM_UNLIKELY(i == BD_NONE))
        return L4MM_ENOMEM; /* only with damaged metadata; check() reports it */
    q = bd_lb(b, c) + i;
    t = q << (c - order);
    split(b, c, order, t);
    mark(b, order, t, 1);
    *out = (t << order) << b->unit_shift;
    return L4MM_OK;
}

l4mm_status l4mm_buddy_free(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order)
{
    uint64_t t;
    if (L4MM_UNLIKELY(!live(b) || !block_node(b, addr, order, &t)))
        return L4MM_EINVAL;
    if (order == 0 ? !bd_test(b, L4MM_BUDDY_A0, t) : !bd_isalloc(b, order, t))
        return L4MM_ENOENT;
    mark(b, order, t, 0);
    merge_in(b, order, t);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_alloc_at(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order)
{
    uint64_t t;
    int j;
    if (!live(b) || !block_node(b, addr, order, &t))
        return L4MM_EINVAL;
    j = free_anc(b, order, t);
    if (j < 0)
        return L4MM_EBUSY;
    split(b, (unsigned)j, order, t);
    mark(b, order, t, 1);
    return L4MM_OK;
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

l4mm_status l4mm_buddy_alloc_in(struct l4mm_buddy *b, unsigned order, l4mm_addr_t lo,
                                l4mm_addr_t hi, l4mm_addr_t *out)
{
    uint64_t mask, ulo, uhi, s = 0;
    unsigned us;
    if (!live(b) || !out || order > b->max_order || lo >= hi)
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
    for (unsigned c = order; c <= b->top; c++) {
        uint64_t lb, i, r;
        if (!((b->nonempty >> c) & 1u))
            continue;
        lb = bd_lb(b, c);
        i = next_set(b, c, 0, (ulo >> c) - lb);
        for (int tries = 0; tries < 2 && i != BD_NONE; tries++) {
            r = lb + i;
            if (r > (uhi >> c))
                break;
            if (fits(r, c, order, ulo, uhi, &s)) {
                uint64_t t = s >> order;
                split(b, c, order, t);
                mark(b, order, t, 1);
                *out = s << us;
                return L4MM_OK;
            }
            /* only a partial first block can fail while a later one fits */
            i = next_set(b, c, 0, i + 1u);
        }
    }
    return L4MM_ENOMEM;
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
            merge_in(b, k, cur >> k);
        } else if (op >= 2) {
            int j = free_anc(b, k, cur >> k);
            if (j < 0)
                return 0;
            if (op == 3)
                split(b, (unsigned)j, k, cur >> k);
        }
        if (rem == (bd_bit(k)) - 1u)
            return 1;
        cur += bd_bit(k);
    }
}

l4mm_status l4mm_buddy_add(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size)
{
    uint64_t x, e;
    if (!live(b) || !unit_range(b, addr, size, &x, &e))
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
    (void)walk(b, x, e, 1);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_take(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size)
{
    uint64_t x, e;
    if (!live(b) || !unit_range(b, addr, size, &x, &e))
        return L4MM_EINVAL;
    if (!walk(b, x, e, 2))
        return L4MM_EBUSY;
    (void)walk(b, x, e, 3);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_unit_state(const struct l4mm_buddy *b, l4mm_addr_t addr, int *state)
{
    uint64_t x;
    if (!live(b) || !state)
        return L4MM_EINVAL;
    x = addr >> b->unit_shift;
    if (x < b->xb || x > b->xl)
        return L4MM_EINVAL;
    if (bd_test(b, L4MM_BUDDY_A0, x)) {
        *state = 2;
        return L4MM_OK;
    }
    for (unsigned k = 0; k <= b->top; k++) {
        if (bd_isfree(b, k, x >> k)) {
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
