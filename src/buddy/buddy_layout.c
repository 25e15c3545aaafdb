/*
 * buddy_layout.c - geometry of an instance: effective max order, metadata layout, sizes.
 *
 * Per bitmap the words are placed as
 *
 *     [ free layer nl | ... | free layer 1 | leaf words | raw layer 1 | ... | raw layer nl ]
 *                                          ^ bm.leaf
 *
 * so both hierarchies are found from the leaf offset and the layer sizes alone:
 * free layer j is at leaf - (s1 + ... + sj), raw layer j at leaf + nw + (s1 + ... + s(j-1)).
 * A0 (order-0 allocations) has no free hierarchy.
 */
#include "buddy/buddy_internal.h"

unsigned l4mm_buddy_top(uint64_t xb, uint64_t xl, unsigned max_order)
{
    unsigned k = max_order > 63u ? 63u : max_order;
    for (;; k--) {
        uint64_t sz = (uint64_t)1 << k;
        uint64_t a = (xb + (sz - 1u)) & ~(sz - 1u);
        /* a may wrap to 0 when xb is near 2^64; then no aligned block starts >= xb. */
        if (a >= xb && a <= xl && xl - a >= sz - 1u)
            return k;
        if (k == 0)
            return 0; /* unreachable: a single unit always fits */
    }
}

uint64_t l4mm_buddy_layout(uint64_t xb, uint64_t xl, unsigned top, struct l4mm_buddy_bm *bm,
                           const struct l4mm_buddy_bm *cmp)
{
    uint64_t off = 0;
    for (unsigned k = 0; k <= top + 1u; k++) {
        unsigned id = k <= top ? k : (unsigned)L4MM_BUDDY_A0;
        uint64_t first, last, bits, nw, s, sum = 0;
        unsigned nl = 0;
        if (id == L4MM_BUDDY_A0) {
            first = xb;
            last = xl;
        } else {
            first = (xb >> k) & ~(uint64_t)1;
            last = (xl >> k) | 1u;
        }
        bits = last - first + 1u; /* cannot wrap: last - first < 2^64 - 1 */
        nw = (bits >> 6) + ((bits & 63u) != 0);
        if (bits == 0 || nw > 0xffffffffu)
            return BD_NONE;
        for (s = nw; s > 1; nl++) {
            s = (s + 63u) >> 6;
            sum += s;
        }
        if (id != L4MM_BUDDY_A0)
            off += sum; /* free layers precede the leaf */
        if (cmp && (cmp[id].lb != first || cmp[id].leaf != (uint32_t)off ||
                    cmp[id].nw != (uint32_t)nw || cmp[id].nl != nl ||
                    cmp[id].ftop != (uint32_t)(off - (id != L4MM_BUDDY_A0 ? sum : 0u))))
            return BD_NONE;
        if (bm) {
            bm[id].lb = first;
            bm[id].leaf = (uint32_t)off;
            bm[id].nw = (uint32_t)nw;
            bm[id].nl = nl;
            bm[id].ftop = (uint32_t)(off - (id != L4MM_BUDDY_A0 ? sum : 0u)); /* top word */
        }
        off += nw + sum; /* leaf, then raw layers */
        if (off > 0xffffffffu)
            return BD_NONE;
    }
    return off;
}

uint64_t l4mm_buddy_seal(const struct l4mm_buddy *b)
{
    uint64_t v[9];
    uint64_t h = 0x243f6a8885a308d3ull;
    v[0] = (uint64_t)(uintptr_t)b->meta;
    v[1] = (uint64_t)b->meta_words;
    v[2] = b->base;
    v[3] = b->size;
    v[4] = b->xb;
    v[5] = b->xl;
    v[6] = b->unit_shift;
    v[7] = ((uint64_t)b->max_order << 32) | b->top;
    v[8] = b->magic;
    for (unsigned i = 0; i < 9u; i++) {
        h ^= v[i];
        h *= 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    return h;
}

/* Validation shared by meta_size and init. Returns 0 when the arguments are malformed. */
static int geometry_ok(l4mm_addr_t base, l4mm_addr_t size, unsigned unit_shift, unsigned max_order)
{
    uint64_t mask;
    if (unit_shift > 63u || max_order > 63u || unit_shift + max_order > 63u)
        return 0;
    mask = ((uint64_t)1 << unit_shift) - 1u;
    if (size == 0 || (base & mask) != 0 || (size & mask) != 0)
        return 0;
    if (base + size < base)
        return 0;
    return 1;
}

size_t l4mm_buddy_meta_size(l4mm_addr_t base, l4mm_addr_t size, unsigned unit_shift,
                            unsigned max_order)
{
    uint64_t xb, xl, words;
    if (!geometry_ok(base, size, unit_shift, max_order))
        return 0;
    xb = base >> unit_shift;
    xl = xb + (size >> unit_shift) - 1u;
    words = l4mm_buddy_layout(xb, xl, l4mm_buddy_top(xb, xl, max_order), NULL, NULL);
    if (words == BD_NONE || words > (uint64_t)(SIZE_MAX / 8u))
        return SIZE_MAX;
    return (size_t)(words * 8u);
}

l4mm_status l4mm_buddy_init(struct l4mm_buddy *b, void *meta, size_t meta_size, l4mm_addr_t base,
                            l4mm_addr_t size, unsigned unit_shift, unsigned max_order)
{
    size_t need;
    uint64_t *m;
    if (!b || !meta || ((uintptr_t)meta & 7u) != 0)
        return L4MM_EINVAL;
    if (!geometry_ok(base, size, unit_shift, max_order))
        return L4MM_EINVAL;
    need = l4mm_buddy_meta_size(base, size, unit_shift, max_order);
    if (need == SIZE_MAX || meta_size < need)
        return L4MM_EINVAL;
    /* Validated: commit. Field-by-field so no large struct copy or memset is emitted. */
    m = (uint64_t *)meta;
    b->meta = m;
    b->meta_words = need / 8u;
    b->base = base;
    b->size = size;
    b->unit_shift = unit_shift;
    b->max_order = max_order;
    b->xb = base >> unit_shift;
    b->xl = b->xb + (size >> unit_shift) - 1u;
    b->top = l4mm_buddy_top(b->xb, b->xl, max_order);
    b->nonempty = 0;
    b->free_units = 0;
    b->alloc_units = 0;
    b->alloc_blocks = 0;
    b->sig = 0;
    b->ch_t = 0;
    b->ch_m = 0;
    b->ch_k = 0;
    b->ch_j = 0;
    b->gh_s = BD_GH_NONE;
    b->gh_j = 0;
    b->gh_a = 0;
    for (unsigned k = 0; k < 64u; k++)
        b->nblk[k] = 0;
    for (unsigned k = 0; k < 65u; k++) {
        b->bm[k].lb = 0;
        b->bm[k].leaf = 0;
        b->bm[k].nw = 0;
        b->bm[k].nl = 0;
        b->bm[k].ftop = 0;
    }
    (void)l4mm_buddy_layout(b->xb, b->xl, b->top, b->bm, NULL);
    for (size_t i = 0; i < b->meta_words; i++)
        ((volatile uint64_t *)m)[i] = 0; /* volatile: keep it a loop, not a memset call */
    b->magic = BD_MAGIC;
    b->seal = l4mm_buddy_seal(b);
    return L4MM_OK;
}
