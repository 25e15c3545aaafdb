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

/* Free summary of bitmap m: set (fsum_on) or clear (fsum_off) the layer-1 bit of leaf word
 * wi and propagate upward while a word's zero-ness changes. The free layers lie below the
 * leaf in memory, layer j at leaf - (s1 + ... + sj) with sj = ((nw - 1) >> 6j) + 1. */
static inline void fsum_on(struct l4mm_buddy *b, const struct l4mm_buddy_bm *m, uint64_t wi)
{
    uint64_t *p = b->meta + m->leaf, nw1 = (uint64_t)m->nw - 1u;
    unsigned sh = 0;
    for (unsigned j = m->nl; j > 0; j--) {
        uint64_t *w, old;
        sh += 6u;
        p -= (nw1 >> sh) + 1u;
        w = p + (wi >> 6);
        old = *w;
        *w = old | ((uint64_t)1 << (wi & 63u));
        if (old)
            return;
        wi >>= 6;
    }
}

static inline void fsum_off(struct l4mm_buddy *b, const struct l4mm_buddy_bm *m, uint64_t wi)
{
    uint64_t *p = b->meta + m->leaf, nw1 = (uint64_t)m->nw - 1u;
    unsigned sh = 0;
    for (unsigned j = m->nl; j > 0; j--) {
        uint64_t *w, v;
        sh += 6u;
        p -= (nw1 >> sh) + 1u;
        w = p + (wi >> 6);
        v = *w & ~((uint64_t)1 << (wi & 63u));
        *w = v;
        if (v)
            return;
        wi >>= 6;
    }
}

/* Set the free-block bit of node (k, q), whose pair is 00 (or, at top, whose own bit is 0);
 * is_top: k == top. Markers cannot change; the free summary only if the word had no free
 * bit. Returns the signature delta; counters are the caller's. */
static inline uint64_t fbit_set(struct l4mm_buddy *b, unsigned k, uint64_t q, int is_top)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t i = q - m->lb, w = m->leaf + (i >> 6), old = b->meta[w];
    b->meta[w] = old | ((uint64_t)1 << (i & 63u));
    if (m->nl && (old == 0 || !bd_freebits(old, is_top)))
        fsum_on(b, m, i >> 6);
    return bd_key(w) << (i & 63u);
}

/* Clear the free-block bit of the free block (k, q); returns the signature decrement. */
static inline uint64_t fbit_clr(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    const struct l4mm_buddy_bm *m = &b->bm[k];
    uint64_t i = q - m->lb, w = m->leaf + (i >> 6);
    uint64_t v = b->meta[w] & ~((uint64_t)1 << (i & 63u));
    b->meta[w] = v;
    if (m->nl && (v == 0 || !bd_freebits(v, k == b->top)))
        fsum_off(b, m, i >> 6);
    return bd_key(w) << (i & 63u);
}

/* Raw summary of bitmap m: layer j lies above the leaf at leaf + nw + (s1 + ... + s(j-1)).
 * Set (rsum_on) or clear (rsum_off) the layer-1 bit of leaf word wi, propagating while a
 * word's zero-ness changes. */
static inline void rsum_on(struct l4mm_buddy *b, const struct l4mm_buddy_bm *m, uint64_t wi)
{
    uint64_t *p = b->meta + m->leaf + m->nw, nw1 = (uint64_t)m->nw - 1u;
    unsigned sh = 0;
    for (unsigned j = m->nl; j > 0; j--) {
        uint64_t *w = p + (wi >> 6), old = *w;
        *w = old | ((uint64_t)1 << (wi & 63u));
        if (old)
            return;
        sh += 6u;
        p += (nw1 >> sh) + 1u;
        wi >>= 6;
    }
}

static inline void rsum_off(struct l4mm_buddy *b, const struct l4mm_buddy_bm *m, uint64_t wi)
{
    uint64_t *p = b->meta + m->leaf + m->nw, nw1 = (uint64_t)m->nw - 1u;
    unsigned sh = 0;
    for (unsigned j = m->nl; j > 0; j--) {
        uint64_t *w = p + (wi >> 6), v = *w & ~((uint64_t)1 << (wi & 63u));
        *w = v;
        if (v)
            return;
        sh += 6u;
        p += (nw1 >> sh) + 1u;
        wi >>= 6;
    }
}

/* Mark node (k, t) as an allocated block: its children's pair 00 -> 11 at order k - 1 (free
 * bits unchanged), or its A0 bit for k = 0. Counters are the caller's. */
static inline void mark_write(struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    const struct l4mm_buddy_bm *m = &b->bm[k == 0 ? (unsigned)L4MM_BUDDY_A0 : k - 1u];
    uint64_t i = (k == 0 ? t : t << 1) - m->lb;
    uint64_t bits = (uint64_t)(k == 0 ? 1u : 3u) << (i & 63u);
    uint64_t w = m->leaf + (i >> 6), old = b->meta[w];
    b->meta[w] = old | bits;
    b->sig += bits * bd_key(w);
    if (m->nl && (k == 0 ? old : bd_markbits(old, 0)) == 0)
        rsum_on(b, m, i >> 6);
}

/* Mark (k, t) and count it. */
static inline void mark_set(struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    mark_write(b, k, t);
    b->alloc_units += bd_bit(k);
    b->alloc_blocks++;
}

/* Unmark the allocated block (k, t). */
static inline void mark_clr(struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    const struct l4mm_buddy_bm *m = &b->bm[k == 0 ? (unsigned)L4MM_BUDDY_A0 : k - 1u];
    uint64_t i = (k == 0 ? t : t << 1) - m->lb;
    uint64_t bits = (uint64_t)(k == 0 ? 1u : 3u) << (i & 63u);
    uint64_t w = m->leaf + (i >> 6), v = b->meta[w] & ~bits;
    b->meta[w] = v;
    b->sig -= bits * bd_key(w);
    if (m->nl && (k == 0 ? v : bd_markbits(v, 0)) == 0)
        rsum_off(b, m, i >> 6);
    b->alloc_units -= bd_bit(k);
    b->alloc_blocks--;
}

/* ---- searches -------------------------------------------------------------------------- */

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

/* Order of the free block containing node (k, t), or -1 if (k, t) is not wholly free. */
static int free_anc(const struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    for (unsigned j = k; j <= b->top; j++)
        if (bd_isfree_v(b, j, t >> (j - k)))
            return (int)j;
    return -1;
}

/* ---- mutations (arguments already validated) ------------------------------------------- */

/* Write out the pending buddies of the orders in `orders` (a subset of ch_m), exactly as
 * split() would have written them. O(m * L). */
static void write_pending(struct l4mm_buddy *b, uint64_t orders)
{
    unsigned k = b->ch_k;
    uint64_t t = b->ch_t, sig = b->sig, o = orders;
    while (o) {
        unsigned i = bd_ctz(o);
        o &= o - 1u;
        sig += fbit_set(b, i, (t >> (i - k)) ^ 1u, 0); /* below ch_j <= top */
        b->nblk[i]++;
    }
    b->sig = sig;
    b->nonempty |= orders;
    b->ch_m &= ~orders;
}

static inline void chain_clear(struct l4mm_buddy *b)
{
    b->ch_t = 0;
    b->ch_m = 0;
    b->ch_k = 0;
    b->ch_j = 0;
}

static void settle(struct l4mm_buddy *b);

/* Settle a ghost split, then write the whole chain out; afterwards no split is pending. */
static void materialize(struct l4mm_buddy *b)
{
    if (b->gh_s != BD_GH_NONE)
        settle(b);
    if (!b->ch_j)
        return;
    write_pending(b, b->ch_m);
    chain_clear(b);
}

/* Allocate (k, t) out of the written free block (j, t >> (j - k)), j > k, with no chain
 * pending: clear the block's bit and leave the buddies on the path pending. O(L). */
static void split_lazy(struct l4mm_buddy *b, unsigned j, unsigned k, uint64_t t)
{
    b->sig -= fbit_clr(b, j, t >> (j - k));
    if (--b->nblk[j] == 0)
        b->nonempty &= ~bd_bit(j);
    b->free_units -= bd_bit(k);
    b->ch_t = t;
    b->ch_m = bd_bit(j) - bd_bit(k);
    b->ch_k = k;
    b->ch_j = j;
}

/* The ghost split (buddy_internal.h): write a live one out as the pending split it stands
 * for (split_lazy and the mark, exactly what alloc would have written), and drop the memo.
 * Every mutating call except the two O(1) ghost paths does this after its validation.
 * O(L). */
BD_COLD static void settle(struct l4mm_buddy *b)
{
    uint32_t s = b->gh_s;
    unsigned j = b->gh_j;
    uint64_t t = b->gh_a >> b->unit_shift;
    b->gh_s = BD_GH_NONE;
    b->gh_j = 0;
    b->gh_a = 0;
    if (s == BD_GH_LIVE) {
        split_lazy(b, j, 0, t);
        mark_set(b, 0, t);
    }
}

/* Allocate (k, u) from the pending block of order c >= k (u: its first order-k node): the
 * path moves into that block. Pending buddies below c hang off the old path and are written
 * out first (usually none: c is normally the lowest pending order). O(1) plus that. */
static void take_pending(struct l4mm_buddy *b, unsigned c, unsigned k, uint64_t u)
{
    uint64_t below = b->ch_m & (bd_bit(c) - 1u), m;
    unsigned k2;
    if (below)
        write_pending(b, below);
    m = (b->ch_m & ~bd_bit(c)) | (bd_bit(c) - bd_bit(k));
    b->free_units -= bd_bit(k);
    if (!m) {
        chain_clear(b);
        return;
    }
    /* canonical form: the path starts at the lowest pending order */
    k2 = bd_ctz(m);
    b->ch_t = u >> (k2 - k);
    b->ch_m = m;
    b->ch_k = k2;
}

/* Turn the free block (j, t >> (j - k)) into reserved (k, t) plus free remainders: one
 * free bit cleared at order j, one set at each order k..j-1 (the buddies on the path).
 * Units: -2^j + (2^j - 2^k) = -2^k. */
static void split(struct l4mm_buddy *b, unsigned j, unsigned k, uint64_t t)
{
    b->sig -= fbit_clr(b, j, t >> (j - k));
    if (--b->nblk[j] == 0)
        b->nonempty &= ~bd_bit(j);
    b->free_units -= bd_bit(j);
    for (unsigned i = j; i > k; i--) {
        b->sig += fbit_set(b, i - 1u, (t >> (i - 1u - k)) ^ 1u, 0); /* below j <= top */
        b->nblk[i - 1u]++;
        b->nonempty |= bd_bit(i - 1u);
        b->free_units += bd_bit(i - 1u);
    }
}

/* Make the reserved-or-allocated-and-unmarked node (k, q) free, merging with buddies:
 * while the buddy's bit is set (it is a free block, since (k, q) has no bit), clear it and
 * go up. Units: +2^k0 net. */
static void merge_in(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    unsigned top = b->top;
    b->free_units += bd_bit(k);
    while (k < top) {
        const struct l4mm_buddy_bm *m = &b->bm[k];
        uint64_t i = (q ^ 1u) - m->lb, w = m->leaf + (i >> 6), old = b->meta[w], v;
        uint64_t bit = (uint64_t)1 << (i & 63u);
        if (!(old & bit))
            break;
        v = old & ~bit;
        b->meta[w] = v;
        b->sig -= bd_key(w) << (i & 63u);
        if (m->nl && (v == 0 || !bd_freebits(v, 0)))
            fsum_off(b, m, i >> 6);
        if (--b->nblk[k] == 0)
            b->nonempty &= ~bd_bit(k);
        q >>= 1;
        k++;
    }
    b->sig += fbit_set(b, k, q, k == top);
    b->nblk[k]++;
    b->nonempty |= bd_bit(k);
}

/* ---- argument checks --------------------------------------------------------------------- */

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

/* Everything but the memo path of alloc. */
BD_NOINLINE static l4mm_status alloc_slow(struct l4mm_buddy *b, unsigned order, l4mm_addr_t *out)
{
    uint64_t mask, i, q, t;
    unsigned c;
    if (L4MM_UNLIKELY(!bd_live(b) || !out || order > b->max_order))
        return L4MM_EINVAL;
    if (L4MM_UNLIKELY(order > b->top))
        return L4MM_ENOMEM;
    mask = b->nonempty | bd_chmask(b);
    if (L4MM_UNLIKELY(b->gh_s != BD_GH_NONE)) {
        if (b->gh_s == BD_GH_LIVE) {
            /* ENOMEM as the overlay sees it, decided before anything is written: the block
             * gh_j is not free, its buddies below gh_j are */
            mask |= bd_bit(b->gh_j) - 1u;
            if (b->nblk[b->gh_j & 63u] == 1u)
                mask &= ~bd_bit(b->gh_j);
        }
        if (!(mask & (~(uint64_t)0 << order)))
            return L4MM_ENOMEM;
        settle(b);
        mask = b->nonempty | bd_chmask(b);
    }
    mask &= ~(uint64_t)0 << order;
    if (L4MM_UNLIKELY(!mask))
        return L4MM_ENOMEM;
    c = bd_ctz(mask);
    if (((b->ch_m >> c) & 1u) && (!((b->nonempty >> c) & 1u) || (((b->ch_t >> (c - b->ch_k)) ^ 1u) -
                                                                 bd_lb(b, c)) < first_free(b, c))) {
        /* best fit is the pending block of order c */
        t = ((b->ch_t >> (c - b->ch_k)) ^ 1u) << (c - order);
        take_pending(b, c, order, t);
    } else {
        i = first_free(b, c);
        if (L4MM_UNLIKELY(i == BD_NONE))
            return L4MM_ENOMEM; /* only with damaged metadata; check() reports it */
        q = bd_lb(b, c) + i;
        t = q << (c - order);
        if (c - order >= BD_LAZY_MIN && !b->ch_j) {
            if (order == 0) { /* a ghost split: no metadata word, no counter written */
                b->gh_j = c;
                b->gh_a = t << b->unit_shift;
                b->gh_s = BD_GH_LIVE;
                *out = b->gh_a;
                return L4MM_OK;
            }
            split_lazy(b, c, order, t);
        } else {
            split(b, c, order, t); /* a written block: outside the pending one */
        }
    }
    mark_set(b, order, t);
    *out = (t << order) << b->unit_shift;
    return L4MM_OK;
}

l4mm_status l4mm_buddy_alloc(struct l4mm_buddy *b, unsigned order, l4mm_addr_t *out)
{
    /* the memo: the previous mutating call freed the ghost split's block, so the best fit
     * is that block again; nothing else to check or write */
    if (L4MM_LIKELY(b && out && order == 0 && b->gh_s == BD_GH_MEMO && b->magic == BD_MAGIC &&
                    b->meta)) {
        b->gh_s = BD_GH_LIVE;
        *out = b->gh_a;
        return L4MM_OK;
    }
    return alloc_slow(b, order, out);
}

/* Everything but the ghost path of free. */
BD_NOINLINE static l4mm_status free_slow(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order)
{
    uint64_t t;
    unsigned j;
    if (L4MM_UNLIKELY(!bd_live(b) || !block_node(b, addr, order, &t)))
        return L4MM_EINVAL;
    /* (the live ghost split's block has no mark, but its free never gets here) */
    if (order == 0 ? !bd_test(b, L4MM_BUDDY_A0, t) : !bd_isalloc(b, order, t))
        return L4MM_ENOENT;
    if (L4MM_UNLIKELY(b->gh_s != BD_GH_NONE))
        settle(b);
    mark_clr(b, order, t);
    j = b->ch_j;
    if (j) {
        if (t == b->ch_t && order == b->ch_k && b->ch_m == bd_bit(j) - bd_bit(order)) {
            /* the pending buddies and this block make (j, t >> (j - order)) free again */
            b->free_units -= bd_bit(j) - bd_bit(order);
            chain_clear(b);
            merge_in(b, j, t >> (j - order));
            return L4MM_OK;
        }
        /* a block inside (J, T) would merge into pending ones: write them out. Blocks
         * outside meet (J, T) at most as a non-free buddy. */
        if (order < j && (t >> (j - order)) == (b->ch_t >> (j - b->ch_k)))
            materialize(b);
    }
    merge_in(b, order, t);
    return L4MM_OK;
}

l4mm_status l4mm_buddy_free(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order)
{
    /* the live ghost split's block: undo it, keep the memo (exact address, order 0) */
    if (L4MM_LIKELY(b && order == 0 && b->gh_s == BD_GH_LIVE && addr == b->gh_a &&
                    b->magic == BD_MAGIC && b->meta)) {
        b->gh_s = BD_GH_MEMO;
        return L4MM_OK;
    }
    return free_slow(b, addr, order);
}

l4mm_status l4mm_buddy_alloc_at(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order)
{
    uint64_t t;
    int j;
    if (!bd_live(b) || !block_node(b, addr, order, &t))
        return L4MM_EINVAL;
    j = free_anc(b, order, t);
    if (j < 0)
        return L4MM_EBUSY;
    materialize(b); /* settles a ghost split too */
    split(b, (unsigned)j, order, t);
    mark_set(b, order, t);
    return L4MM_OK;
}

/* ---- internals shared with buddy_range.c --------------------------------------------------- */

int l4mm_buddy_free_anc(const struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    return free_anc(b, k, t);
}

void l4mm_buddy_materialize(struct l4mm_buddy *b)
{
    materialize(b);
}

void l4mm_buddy_settle(struct l4mm_buddy *b)
{
    if (b->gh_s != BD_GH_NONE)
        settle(b);
}

uint64_t l4mm_buddy_first_free(const struct l4mm_buddy *b, unsigned k)
{
    return first_free(b, k);
}

void l4mm_buddy_split(struct l4mm_buddy *b, unsigned j, unsigned k, uint64_t t, int lazy)
{
    if (lazy)
        split_lazy(b, j, k, t);
    else
        split(b, j, k, t);
}

void l4mm_buddy_merge_in(struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    merge_in(b, k, q);
}

void l4mm_buddy_mark(struct l4mm_buddy *b, unsigned k, uint64_t t)
{
    mark_set(b, k, t);
}
