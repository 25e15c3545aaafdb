/*
 * buddy_internal.h - representation shared by the buddy sources (not installed).
 *
 * Metadata layout (all in the caller's buffer, 64-bit words):
 *
 *   for each order k = 0..top:  [free summary layers, top..1][leaf words][raw layers 1..top]
 *   then the order-0 allocation bitmap A0:            [leaf words][raw layers 1..top]
 *
 * Leaf bit i of order k stands for the naturally aligned node q = lb(k) + i, where
 * lb(k) = (xb >> k) rounded down to even (so a bit and its buddy share parity and word).
 * Per buddy pair (bits 2j, 2j+1) of order k < top:
 *
 *      00  neither node is a block at this order (look above or below)
 *      10  / 01  that node is a FREE block (maximal: its buddy is not wholly free)
 *      11  the PARENT (order k+1) is an ALLOCATED block
 *
 * (Two free buddies are always merged, so 11 cannot mean "two free blocks" below top.)
 * At order top every set bit is a free block. A0 bit x: unit x is an order-0 allocation.
 *
 * Summary layer j bit i = "word i of layer j-1 is non-zero", where the leaf word is first
 * filtered: for the free hierarchy to its free-block bits (bd_freebits()), for the second
 * ("raw") hierarchy of an order bitmap to its allocation markers (bd_markbits()); A0's raw
 * hierarchy takes the word as it is. Searches descend the free hierarchy; emptiness tests of
 * a range (add) use both. Keeping markers apart means order-0 churn never touches them.
 */
#ifndef L4MM_BUDDY_INTERNAL_H
#define L4MM_BUDDY_INTERNAL_H

#include <l4mm/buddy.h>
#include "common/glue.h"

#define BD_MAGIC     0x4c344244u /* "L4BD" */
#define BD_NONE      UINT64_MAX
#define BD_M1        0x5555555555555555ull
#define BD_MAXLAYERS 6u
#ifndef BD_LAZY_MIN
#define BD_LAZY_MIN 2u /* splits over at least this many orders are left pending */
#endif

/* Rare paths kept out of line so they do not crowd the fast paths' registers. */
#if defined(__GNUC__) || defined(__clang__)
#define BD_COLD     __attribute__((noinline, cold))
#define BD_NOINLINE __attribute__((noinline))
#else
#define BD_COLD
#define BD_NOINLINE
#endif

/* Count trailing zeros of x != 0; avoids libgcc calls (__ctzdi2) on 32-bit and riscv64. */
static inline unsigned bd_ctz(uint64_t x)
{
#if defined(__clang__) || defined(__x86_64__) || defined(__aarch64__)
    return (unsigned)__builtin_ctzll(x);
#else
    unsigned n = 0;
    if ((x & 0xffffffffu) == 0) {
        n += 32;
        x >>= 32;
    }
    if ((x & 0xffffu) == 0) {
        n += 16;
        x >>= 16;
    }
    if ((x & 0xffu) == 0) {
        n += 8;
        x >>= 8;
    }
    if ((x & 0xfu) == 0) {
        n += 4;
        x >>= 4;
    }
    if ((x & 0x3u) == 0) {
        n += 2;
        x >>= 2;
    }
    return n + (unsigned)((x & 1u) == 0);
#endif
}

/* 2^k; the mask documents (to analyzers too) that orders are below 64. */
static inline uint64_t bd_bit(unsigned k)
{
    return (uint64_t)1 << (k & 63u);
}

/* floor(log2(x)) for x != 0, portable (no __clzdi2). */
static inline unsigned bd_log2(uint64_t x)
{
    unsigned n = 0;
    if (x >> 32) {
        n += 32;
        x >>= 32;
    }
    if (x >> 16) {
        n += 16;
        x >>= 16;
    }
    if (x >> 8) {
        n += 8;
        x >>= 8;
    }
    if (x >> 4) {
        n += 4;
        x >>= 4;
    }
    if (x >> 2) {
        n += 2;
        x >>= 2;
    }
    return n + (unsigned)(x >> 1);
}

static inline unsigned bd_popcount(uint64_t x)
{
    x = x - ((x >> 1) & BD_M1);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The free-block bits of a leaf word of an order below top: drop pairs with both set. */
static inline uint64_t bd_freebits(uint64_t w, int is_top)
{
    uint64_t p;
    if (is_top)
        return w;
    p = w & (w >> 1) & BD_M1;
    return w & ~(p | (p << 1));
}

/* The allocation-marker bits of a leaf word below top: bit 2j set iff pair j is 11. */
static inline uint64_t bd_markbits(uint64_t w, int is_top)
{
    return is_top ? 0 : w & (w >> 1) & BD_M1;
}

/* Word signature: v times an odd per-index constant, so it is 0 for a zero word, injective
 * in v for a fixed index, and a write updates it with one multiply of the difference. */
static inline uint64_t bd_key(uint64_t i)
{
    return ((i << 1) | 1u) * 0x9e3779b97f4a7c15ull;
}

static inline uint64_t bd_mix(uint64_t i, uint64_t v)
{
    return v * bd_key(i);
}

/* Size in words of summary layer j (layer 0 = leaf) of a bitmap with nw leaf words. */
static inline uint64_t bd_lsz(const struct l4mm_buddy_bm *m, unsigned j)
{
    return j == 0 ? m->nw : ((uint64_t)(m->nw - 1u) >> (6u * j)) + 1u;
}

/* First node index (even) of order k's bitmap; A0 starts at xb. */
static inline uint64_t bd_lb(const struct l4mm_buddy *b, unsigned k)
{
    return b->bm[k].lb;
}

/* Test the bit of node q (absolute) in bitmap k. */
static inline int bd_test(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    uint64_t i = q - bd_lb(b, k);
    return (int)((b->meta[b->bm[k].leaf + (i >> 6)] >> (i & 63u)) & 1u);
}

/* Ghost split (see docs/buddy.md). gh_s is BD_GH_NONE, BD_GH_MEMO or BD_GH_LIVE; the three
 * codes differ pairwise in many bits, so no single flipped bit turns one into another.
 * With gh_s != 0, no chain is pending, gh_j (>= BD_LAZY_MIN) is the lowest order with a
 * written free block, and t = gh_a >> unit_shift is the first unit of the first written
 * free block T = t >> gh_j of that order: exactly what an order-0 alloc would split. MEMO:
 * nothing more (the metadata and counters are those of T free). LIVE: in addition, unit t
 * is allocated out of T, with the buddies on its path free - but metadata and counters
 * still show T free: readers apply the overlay (T not free, its buddies free, t allocated;
 * counters: free -1, allocated +1, one free block more per order below gh_j, one less at
 * gh_j), every mutating call writes it out (settle) after its validation. */
#define BD_GH_NONE 0u
#define BD_GH_MEMO 0x4d454d4fu /* "MEMO" */
#define BD_GH_LIVE 0x4c495645u /* "LIVE" */

/* Node (k, q) is the block a live ghost split was taken from (its free bit written). */
static inline int bd_ghost_top(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return b->gh_s == BD_GH_LIVE && k == b->gh_j && q == (b->gh_a >> b->unit_shift) >> (k & 63u);
}

/* Node (k, q) is the live ghost split's allocated (unmarked) order-0 block. */
static inline int bd_ghost_blk(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return b->gh_s == BD_GH_LIVE && k == 0 && q == b->gh_a >> b->unit_shift;
}

/* Node (k, q) is a free buddy on the live ghost split's path (no bit written). */
static inline int bd_ghost_bud(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return b->gh_s == BD_GH_LIVE && k < b->gh_j &&
           q == (((b->gh_a >> b->unit_shift) >> (k & 63u)) ^ 1u);
}

/* Node (k, q) is a free block (written, and not the live ghost split's block). */
static inline int bd_isfree(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return bd_test(b, k, q) && (k == b->top || !bd_test(b, k, q ^ 1u)) && !bd_ghost_top(b, k, q);
}

/* Node (k, q), k >= 1, is an allocated block (both children bits set at k - 1). */
static inline int bd_isalloc(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    uint64_t i = (q << 1) - bd_lb(b, k - 1u);
    return ((b->meta[b->bm[k - 1u].leaf + (i >> 6)] >> (i & 63u)) & 3u) == 3u;
}

/* The pending split ("chain"). Allocating from the free block (J, T) leaves the buddies on
 * the path down to the allocated node (K, t) unwritten: for each order k in the mask ch_m
 * (a subset of K..J-1 holding K) the node (k, (t >> (k - K)) ^ 1) is a free block, counted
 * in free_units and (through ch_m) in stats, that has no bit. (J, T) has no free bit; the path
 * node (K, t) and the buddies of orders outside the mask hold allocated blocks and are
 * written normally. Freeing the single block (K, t) with the full mask restores (J, T) in
 * O(1); allocations whose best fit is a pending block move the path in O(1); operations
 * that could meet a pending block write the chain out first (materialize). */
static inline uint64_t bd_chmask(const struct l4mm_buddy *b)
{
    return b->ch_m;
}

/* Node (k, q) is a pending (unwritten) free block of the chain (k < 64 given). */
static inline int bd_chhas(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return ((b->ch_m >> (k & 63u)) & 1u) && k >= b->ch_k && q == ((b->ch_t >> (k - b->ch_k)) ^ 1u);
}

/* Node (k, q) is a free block, written or pending (of the chain or a live ghost split). */
static inline int bd_isfree_v(const struct l4mm_buddy *b, unsigned k, uint64_t q)
{
    return bd_isfree(b, k, q) || bd_chhas(b, k, q) || bd_ghost_bud(b, k, q);
}

/* An initialised instance. */
static inline int bd_live(const struct l4mm_buddy *b)
{
    return b && b->magic == BD_MAGIC && b->meta;
}

/* Shared by buddy.c (defined there) and buddy_range.c; arguments already validated.
 * free_anc: order of the free block (written or pending) holding node (k, t), or -1;
 * materialize: settle a ghost split, then write a pending split out; split: allocate (k, t) out of
 * the written free block (j, t >> (j - k)), left pending if lazy (needs no split pending);
 * merge_in: make node (k, q) free and merge; mark: record (k, t) as an allocated block. */
int l4mm_buddy_free_anc(const struct l4mm_buddy *b, unsigned k, uint64_t t);
void l4mm_buddy_materialize(struct l4mm_buddy *b);
/* settle: write a live ghost split out as a pending split and drop the memo (gh_s -> 0);
 * first_free: index (from lb(k)) of the first written free block of order k, or BD_NONE. */
void l4mm_buddy_settle(struct l4mm_buddy *b);
uint64_t l4mm_buddy_first_free(const struct l4mm_buddy *b, unsigned k);
void l4mm_buddy_split(struct l4mm_buddy *b, unsigned j, unsigned k, uint64_t t, int lazy);
void l4mm_buddy_merge_in(struct l4mm_buddy *b, unsigned k, uint64_t q);
void l4mm_buddy_mark(struct l4mm_buddy *b, unsigned k, uint64_t t);

/* Layout computation shared by meta_size, init and check. Returns the total words, or
 * BD_NONE when the metadata would be too big or (cmp not NULL) an entry of cmp differs from
 * the computed one. bm and cmp may be NULL. */
uint64_t l4mm_buddy_layout(uint64_t xb, uint64_t xl, unsigned top, struct l4mm_buddy_bm *bm,
                           const struct l4mm_buddy_bm *cmp);
/* Effective max order: the largest k <= max_order with an aligned order-k block in range. */
unsigned l4mm_buddy_top(uint64_t xb, uint64_t xl, unsigned max_order);
/* Seal over the geometry fields. */
uint64_t l4mm_buddy_seal(const struct l4mm_buddy *b);

#endif /* L4MM_BUDDY_INTERNAL_H */
