/*
 * buddy_check.c - statistics and the invariant checkers.
 *
 * The full check cross-checks every meaningful bit:
 *   1. struct: magic, seal over the geometry, layout recomputed from the geometry;
 *   2. signature: the sum of bd_mix(i, word) over all leaf words equals b->sig, so any
 *      damage confined to one leaf word is found with certainty (summary words need no
 *      signature: each is recomputed exactly in 3.);
 *   3. summaries: every summary word recomputed from its children, padding bits zero;
 *   4. parse: a depth-first walk of the node tree classifies every unit as free, allocated or
 *      reserved; every block found must lie wholly inside the range; the number of leaf bits
 *      the walk consumed must equal the number of set leaf bits (so there is no bit below a
 *      block, outside the range, or in padding);
 *   5. counters: free units, per-order free blocks, allocated units and blocks, the
 *      non-empty mask all equal the recount.
 */
#include "buddy/buddy_internal.h"

void l4mm_buddy_stats(const struct l4mm_buddy *b, struct l4mm_buddy_stats *out)
{
    int live;
    unsigned gj = 64u; /* order of a live ghost split's block; 64: none */
    uint64_t g = 0, ne;
    if (!out)
        return;
    live = b && b->magic == BD_MAGIC;
    if (live && b->gh_s == BD_GH_LIVE && b->gh_j < 64u) { /* the overlay: gj split */
        g = 1;
        gj = b->gh_j;
    }
    out->free_units = live ? b->free_units - g : 0;
    out->allocated_units = live ? b->alloc_units + g : 0;
    out->reserved_units = live ? (b->xl - b->xb + 1u) - b->free_units - b->alloc_units : 0;
    for (unsigned k = 0; k < 64u; k++)
        out->free_blocks[k] = live && k <= b->top
                                  ? b->nblk[k] + ((bd_chmask(b) >> k) & 1u) +
                                        (uint64_t)(g && k < gj) - (uint64_t)(g && k == gj)
                                  : 0;
    ne = live ? b->nonempty | bd_chmask(b) : 0;
    if (g) {
        ne |= bd_bit(gj) - 1u;
        if (b->nblk[gj] == 1u)
            ne &= ~bd_bit(gj);
    }
    out->largest_free_order = ne ? (int)bd_log2(ne) : -1;
}

l4mm_status l4mm_buddy_check_quick(const struct l4mm_buddy *b)
{
    uint64_t fu = 0, ne = 0, n;
    if (!b)
        return L4MM_EINVAL;
    if (b->magic != BD_MAGIC || !b->meta || b->seal != l4mm_buddy_seal(b))
        return L4MM_ECORRUPT;
    if (b->top > b->max_order || b->xl < b->xb || b->unit_shift + b->max_order > 63u)
        return L4MM_ECORRUPT;
    /* pending split: none (all zero), or K < J <= top, block (J, T) inside the range and a
     * mask of pending orders within K..J-1 whose lowest is K (the canonical form) */
    if (b->ch_j == 0
            ? b->ch_k != 0 || b->ch_t != 0 || b->ch_m != 0
            : b->ch_k >= b->ch_j || b->ch_j > b->top || b->ch_m == 0 ||
                  bd_ctz(b->ch_m) != b->ch_k ||
                  (b->ch_m & ~(bd_bit(b->ch_j) - bd_bit(b->ch_k))) != 0 ||
                  (b->ch_t >> (b->ch_j - b->ch_k)) < (b->xb >> b->ch_j) ||
                  (b->ch_t >> (b->ch_j - b->ch_k)) > (b->xl >> b->ch_j) ||
                  ((b->ch_t >> (b->ch_j - b->ch_k)) << b->ch_j) < b->xb ||
                  ((b->ch_t >> (b->ch_j - b->ch_k)) << b->ch_j) + (bd_bit(b->ch_j) - 1u) > b->xl)
        return L4MM_ECORRUPT;
    /* ghost split: none (fields 0), or no chain, gh_j the lowest order with a free block
     * (at least BD_LAZY_MIN), gh_a the unit-aligned address of a gh_j-aligned unit whose
     * order-gh_j block lies in the range (check() also compares it with the search) */
    if (b->gh_s == BD_GH_NONE) {
        if (b->gh_j != 0 || b->gh_a != 0)
            return L4MM_ECORRUPT;
    } else {
        uint64_t t = b->gh_a >> b->unit_shift;
        if ((b->gh_s != BD_GH_MEMO && b->gh_s != BD_GH_LIVE) || b->ch_j != 0 ||
            b->gh_j < BD_LAZY_MIN || b->gh_j > b->top || b->nonempty == 0 ||
            bd_ctz(b->nonempty) != b->gh_j || (t << b->unit_shift) != b->gh_a ||
            (t & (bd_bit(b->gh_j) - 1u)) != 0 || t < b->xb || t + (bd_bit(b->gh_j) - 1u) > b->xl)
            return L4MM_ECORRUPT;
    }
    fu = b->ch_m; /* the pending blocks: one of each order in the mask */
    for (unsigned k = 0; k < 64u; k++) {
        if (b->nblk[k] == 0)
            continue;
        if (k > b->top)
            return L4MM_ECORRUPT;
        fu += b->nblk[k] << k;
        ne |= bd_bit(k);
    }
    n = b->xl - b->xb + 1u;
    if (fu != b->free_units || ne != b->nonempty || b->free_units > n ||
        b->alloc_units > n - b->free_units || b->alloc_blocks > b->alloc_units ||
        (b->alloc_blocks == 0) != (b->alloc_units == 0))
        return L4MM_ECORRUPT;
    return L4MM_OK;
}

/* Recompute summary layers of bitmap id and compare. Returns 0 on mismatch. */
static int check_summaries(const struct l4mm_buddy *b, unsigned id, int raw)
{
    const struct l4mm_buddy_bm *m = &b->bm[id];
    uint64_t below = m->leaf, cur = raw ? (uint64_t)m->leaf + m->nw : m->leaf;
    int t = id == b->top;
    for (unsigned j = 1; j <= m->nl; j++) {
        uint64_t nchild = bd_lsz(m, j - 1u), s = bd_lsz(m, j);
        if (!raw)
            cur -= s;
        for (uint64_t w = 0; w < s; w++) {
            uint64_t expect = 0;
            for (unsigned bit = 0; bit < 64u; bit++) {
                uint64_t c = w * 64u + bit, cw;
                if (c >= nchild)
                    break;
                cw = b->meta[below + c];
                if (j == 1 && !raw)
                    cw = bd_freebits(cw, t);
                else if (j == 1 && id != L4MM_BUDDY_A0)
                    cw = bd_markbits(cw, t);
                if (cw)
                    expect |= (uint64_t)1 << bit;
            }
            if (b->meta[cur + w] != expect)
                return 0;
        }
        below = cur;
        if (raw)
            cur += s;
    }
    return 1;
}

/* Leaf bits of bitmap id: padding zero; returns the popcount, or BD_NONE on bad padding. */
static uint64_t leaf_bits(const struct l4mm_buddy *b, unsigned id, uint64_t nbits)
{
    const struct l4mm_buddy_bm *m = &b->bm[id];
    uint64_t cnt = 0;
    for (uint64_t w = 0; w < m->nw; w++) {
        uint64_t v = b->meta[m->leaf + w];
        if (w == m->nw - 1u && (nbits & 63u) != 0 && (v >> (nbits & 63u)) != 0)
            return BD_NONE;
        cnt += bd_popcount(v);
    }
    return cnt;
}

struct tally {
    uint64_t bits, free_units, alloc_units, alloc_blocks;
    uint64_t nblk[64];
};

/* Depth-first walk over the node tree below the order-top node qt. Returns 0 on damage. */
static int parse(const struct l4mm_buddy *b, uint64_t qt, struct tally *ty)
{
    unsigned k = b->top;
    uint64_t q = qt;
    for (;;) {
        uint64_t lo = q << k, hi = lo + ((bd_bit(k)) - 1u);
        int inr = lo >= b->xb && hi <= b->xl;
        int meets = !(hi < b->xb || lo > b->xl);
        int leafnode = 1;
        if (!meets) {
            /* no bits may exist here; the bit count catches any */
        } else if (bd_ghost_blk(b, k, q)) { /* allocated, its mark not yet written */
            if (!inr)
                return 0;
            ty->alloc_units += bd_bit(k);
            ty->alloc_blocks++;
        } else if (bd_isfree_v(b, k, q)) {
            if (!inr)
                return 0;
            ty->bits += (uint64_t)bd_test(b, k, q);
            ty->nblk[k]++;
            ty->free_units += bd_bit(k);
        } else if (k > 0 && bd_isalloc(b, k, q)) {
            if (!inr)
                return 0;
            ty->bits += 2;
            ty->alloc_units += bd_bit(k);
            ty->alloc_blocks++;
        } else if (k == 0 && bd_test(b, L4MM_BUDDY_A0, q)) {
            ty->bits++;
            ty->alloc_units++;
            ty->alloc_blocks++;
        } else if (k > 0) {
            leafnode = 0;
        }
        if (!leafnode) {
            k--;
            q <<= 1;
            continue;
        }
        while (k < b->top && (q & 1u)) {
            q >>= 1;
            k++;
        }
        if (k == b->top)
            return 1;
        q |= 1u;
    }
}

l4mm_status l4mm_buddy_check(const struct l4mm_buddy *b)
{
    struct tally ty;
    uint64_t sig = 0, total = 0, ne = 0, live;
    unsigned gj;
    l4mm_status st = l4mm_buddy_check_quick(b);
    if (st != L4MM_OK)
        return st;
    if (l4mm_buddy_layout(b->xb, b->xl, b->top, NULL, b->bm) != b->meta_words)
        return L4MM_ECORRUPT;
    for (unsigned k = b->top + 1u; k < (unsigned)L4MM_BUDDY_A0; k++) /* unused entries: 0 */
        if (b->bm[k].lb || b->bm[k].leaf || b->bm[k].nw || b->bm[k].nl || b->bm[k].ftop)
            return L4MM_ECORRUPT;
    if (b->top != l4mm_buddy_top(b->xb, b->xl, b->max_order))
        return L4MM_ECORRUPT;
    for (unsigned k = 0; k <= b->top + 1u; k++) {
        const struct l4mm_buddy_bm *m = &b->bm[k <= b->top ? k : (unsigned)L4MM_BUDDY_A0];
        for (uint64_t i = m->leaf; i < (uint64_t)m->leaf + m->nw; i++)
            sig += bd_mix(i, b->meta[i]);
    }
    if (sig != b->sig)
        return L4MM_ECORRUPT;
    live = b->gh_s == BD_GH_LIVE;
    gj = b->gh_j;
    for (unsigned k = 0; k <= b->top + 1u; k++) {
        unsigned id = k <= b->top ? k : (unsigned)L4MM_BUDDY_A0;
        uint64_t nbits, c;
        if (id == L4MM_BUDDY_A0)
            nbits = b->xl - b->xb + 1u;
        else
            nbits = ((b->xl >> k) | 1u) - bd_lb(b, k) + 1u;
        if ((id != L4MM_BUDDY_A0 && !check_summaries(b, id, 0)) || !check_summaries(b, id, 1))
            return L4MM_ECORRUPT;
        c = leaf_bits(b, id, nbits);
        if (c == BD_NONE)
            return L4MM_ECORRUPT;
        total += c;
    }
    /* (summaries are sound now) the memo must be exactly what the search finds */
    if (b->gh_s != BD_GH_NONE && l4mm_buddy_first_free(b, b->gh_j) !=
                                     ((b->gh_a >> b->unit_shift) >> b->gh_j) - bd_lb(b, b->gh_j))
        return L4MM_ECORRUPT;
    if (live)
        total--; /* the ghost's block: its free bit is written, the walk sees it split */
    ty.bits = ty.free_units = ty.alloc_units = ty.alloc_blocks = 0;
    for (unsigned k = 0; k < 64u; k++)
        ty.nblk[k] = 0;
    for (uint64_t q = b->xb >> b->top;; q++) {
        if (!parse(b, q, &ty))
            return L4MM_ECORRUPT;
        if (q == b->xl >> b->top)
            break;
    }
    for (unsigned k = 0; k < 64u; k++) {
        /* unwritten free blocks (chain, ghost buddies); the ghost's block is written */
        uint64_t pend = ((bd_chmask(b) >> k) & 1u) + (live && k < gj), wr = live && k == gj;
        if (ty.nblk[k] + wr != b->nblk[k] + pend)
            return L4MM_ECORRUPT;
        if (ty.nblk[k] + wr > pend)
            ne |= bd_bit(k);
    }
    if (ty.bits != total || ty.free_units + live != b->free_units ||
        ty.alloc_units != b->alloc_units + live || ty.alloc_blocks != b->alloc_blocks + live ||
        ne != b->nonempty)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}
