/**
 * @file buddy.h
 * @brief A power-of-two block (buddy) allocator over any address range.
 *
 * An instance manages `[base, base + size)` in units of `1 << unit_shift` bytes (physical
 * frames, a window in another process, I/O-port numbers with unit_shift 0). Blocks have
 * orders `0..max_order`; a block of order k is `1 << (unit_shift + k)` bytes and is aligned
 * to its size relative to address 0, also when `base` is not. Every unit is *reserved*
 * (after init), *free* (after add, or free) or part of an *allocated* block.
 *
 * All state lives in the caller's metadata buffer (see l4mm_buddy_meta_size(); about
 * 3.1 bits per unit, below 0.4 byte per 4 KiB page) and in the instance struct. The managed
 * memory is never read or written, so it need not be mapped at all.
 *
 * Representation (details and drawings in docs/buddy.md): one bitmap per order k holds a
 * bit per naturally aligned order-k node; a single set bit of a buddy pair is a free block,
 * a pair with both bits set marks its parent (order k+1) as an allocated block (two free
 * buddies would have been merged, so the pattern is otherwise impossible); order-0
 * allocations have a bitmap of their own. Each bitmap has two 64-ary summary hierarchies
 * ("holds a free block", "holds any bit") for O(log64 n) searches. A split over several
 * orders may stay *pending* (the free buddies on its path counted but not yet written, see
 * the ch_* fields): freeing that block again, or allocating the next best-fit block out of
 * the pending ones, then costs O(L) instead of O(m * L); any operation that could meet a
 * pending block writes it out first. An order-0 allocation that would start such a split
 * while none is pending is a *ghost split* (gh_* fields): it changes no metadata word and no
 * counter, only the ghost state; its free changes that state back and keeps the result of the
 * best-fit search as a memo, so the next order-0 allocation, if nothing else happened in
 * between, is served in O(1) without a search (every other mutating call first writes the
 * ghost out as a pending split and drops the memo). The metadata is canonical whenever no
 * split is pending, in particular once everything is free again.
 *
 * Thread-safety: none inside; an instance must be serialised by the caller (one lock per
 * instance). Distinct instances share nothing. No function allocates, recurses or uses
 * floating point. Costs below use n = units in the range, m = effective max order
 * (max_order capped to the largest order that fits), L = log64 n (at most 6).
 */
#ifndef L4MM_BUDDY_H
#define L4MM_BUDDY_H

#include <l4mm/status.h>
#include <l4mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Index of the order-0 allocation bitmap in l4mm_buddy::bm (private). */
#define L4MM_BUDDY_A0 64

/** @brief Layout of one bitmap inside the metadata buffer (private to the implementation). */
struct l4mm_buddy_bm {
    uint64_t lb;   /**< private: absolute node index of leaf bit 0 */
    uint32_t leaf; /**< private: word offset of the leaf words */
    uint32_t nw;   /**< private: number of leaf words */
    uint32_t nl;   /**< private: number of summary layers above the leaf */
    uint32_t ftop; /**< private: word offset of the top word of the free hierarchy */
};

/**
 * @brief A buddy allocator instance. Complete so it can be embedded anywhere; every field is
 *        private (use the functions). Initialise with l4mm_buddy_init().
 */
struct l4mm_buddy {
    uint64_t *meta;              /**< private: the caller's metadata buffer */
    size_t meta_words;           /**< private: 64-bit words of meta in use */
    l4mm_addr_t base;            /**< private: first managed address */
    l4mm_addr_t size;            /**< private: bytes managed */
    uint64_t xb;                 /**< private: first unit index (base >> unit_shift) */
    uint64_t xl;                 /**< private: last unit index, inclusive */
    unsigned unit_shift;         /**< private: log2 of the unit size in bytes */
    unsigned max_order;          /**< private: largest order the caller allows */
    unsigned top;                /**< private: effective max order (largest order that fits) */
    uint32_t magic;              /**< private: set by init */
    uint32_t gh_s;               /**< private: ghost split state: 0, memo only, or live */
    uint32_t gh_j;               /**< private: ghost split: order of the block split from */
    l4mm_addr_t gh_a;            /**< private: ghost split: address of its order-0 block */
    uint64_t nonempty;           /**< private: bit k set iff a free block of order k exists */
    uint64_t free_units;         /**< private: number of free units */
    uint64_t alloc_units;        /**< private: number of allocated units */
    uint64_t alloc_blocks;       /**< private: number of allocated blocks */
    uint64_t sig;                /**< private: signature of the metadata words (for check) */
    uint64_t seal;               /**< private: hash of the geometry (for the quick check) */
    uint64_t ch_t;               /**< private: pending split: path node at order ch_k */
    uint64_t ch_m;               /**< private: pending split: orders with a pending buddy */
    uint32_t ch_k;               /**< private: pending split: order of the path's lowest node */
    uint32_t ch_j;               /**< private: pending split: order split from; 0 = none */
    uint64_t nblk[64];           /**< private: free blocks per order */
    struct l4mm_buddy_bm bm[65]; /**< private: bitmap layout, per order and order-0 allocs */
};

/** @brief Statistics of an instance (see l4mm_buddy_stats()). */
struct l4mm_buddy_stats {
    l4mm_addr_t free_units;      /**< units that are free */
    l4mm_addr_t allocated_units; /**< units inside allocated blocks */
    l4mm_addr_t reserved_units;  /**< units that are neither free nor allocated */
    /** number of blocks of each order in the canonical decomposition of the free set into
     *  maximal naturally aligned blocks of order <= max_order; 0 above max_order */
    l4mm_addr_t free_blocks[64];
    int largest_free_order; /**< largest order with a free block; -1 when nothing is free */
};

/**
 * @brief Bytes of metadata an instance over this range needs.
 * @param base first address of the range (unit-aligned).
 * @param size bytes in the range (unit-aligned, not 0).
 * @param unit_shift log2 of the unit size in bytes.
 * @param max_order largest order (unit_shift + max_order <= 63).
 * @return the size in bytes (a multiple of 8); 0 when the arguments are ones that
 *         l4mm_buddy_init() rejects as malformed; SIZE_MAX when the metadata would not be
 *         addressable (more than 2^32 words, or more than size_t can count).
 * @par Cost O(max_order). Pure; thread-safe.
 */
size_t l4mm_buddy_meta_size(l4mm_addr_t base, l4mm_addr_t size, unsigned unit_shift,
                            unsigned max_order);

/**
 * @brief Initialise an instance with every unit reserved.
 * @param b the instance (overwritten).
 * @param meta metadata buffer, 8-byte aligned; only this buffer and *b hold state.
 * @param meta_size bytes in meta.
 * @param base first managed address; unit-aligned; 0 is valid.
 * @param size bytes managed; unit-aligned and not 0; base + size must not overflow.
 * @param unit_shift log2 of the unit size (0 for I/O ports, 12 for 4 KiB pages).
 * @param max_order largest block order; may exceed what the range can hold.
 * @return ::L4MM_OK on success;
 *         ::L4MM_EINVAL if b or meta is NULL, meta is not 8-byte aligned, meta_size is smaller
 *         than l4mm_buddy_meta_size(), base or size is not unit-aligned, size is 0,
 *         base + size overflows, or unit_shift + max_order > 63 (nothing is written then).
 * @par Cost O(meta_size) (zeroes the metadata it uses). Never touches the managed range.
 */
l4mm_status l4mm_buddy_init(struct l4mm_buddy *b, void *meta, size_t meta_size, l4mm_addr_t base,
                            l4mm_addr_t size, unsigned unit_shift, unsigned max_order);

/**
 * @brief Make a range available: reserved -> free, coalescing with free neighbours.
 * @param b the instance.
 * @param addr first address (unit-aligned).
 * @param size bytes (unit-aligned, not 0).
 * @return ::L4MM_OK; ::L4MM_EINVAL if b is NULL or uninitialised, size is 0, addr or size is
 *         not unit-aligned, or any part of the range lies outside the instance's range;
 *         ::L4MM_EBUSY if any unit of it is not reserved. On error nothing changes.
 * @par Cost O(m^2 * L + L * size / 2^(unit_shift + m + 6)): per range, not per unit
 *      (about 50 ns for 256 MiB of 4 KiB pages with m = 18).
 */
l4mm_status l4mm_buddy_add(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size);

/**
 * @brief Withdraw a range: free -> reserved.
 * @param b the instance.
 * @param addr first address (unit-aligned).
 * @param size bytes (unit-aligned, not 0).
 * @return ::L4MM_OK; ::L4MM_EINVAL as for l4mm_buddy_add(); ::L4MM_EBUSY if any unit of the
 *         range is not free. On error nothing changes.
 * @par Cost O(m^2 * L + L * size / 2^(unit_shift + m + 6)).
 */
l4mm_status l4mm_buddy_take(struct l4mm_buddy *b, l4mm_addr_t addr, l4mm_addr_t size);

/**
 * @brief Allocate a block of the given order (best fit: from the smallest free block, lowest
 *        address first).
 * @param b the instance.
 * @param order block order.
 * @param out receives the block's address (0 is a valid address).
 * @return ::L4MM_OK; ::L4MM_EINVAL if b or out is NULL, b is uninitialised or
 *         order > max_order; ::L4MM_ENOMEM if no free block of that order exists (only then).
 * @par Cost O(m * L): a search of L words, writing out a pending split (at most m orders,
 *      each at most L summary words), then the split: O(L) when it is left pending or
 *      served from pending blocks, O(1) (no metadata write, no counter) for an order-0
 *      block that starts a split while none is pending (a ghost split), and O(1) without a
 *      search when the previous mutating call freed such a block; else O(m * L). Never
 *      touches the managed range.
 */
l4mm_status l4mm_buddy_alloc(struct l4mm_buddy *b, unsigned order, l4mm_addr_t *out);

/**
 * @brief Allocate a block lying entirely inside [lo, hi) (e.g. "below 16 MiB").
 * @param b the instance.
 * @param order block order.
 * @param lo lowest acceptable address (need not be aligned).
 * @param hi end of the acceptable window, exclusive (need not be aligned).
 * @param out receives the block's address.
 * @return ::L4MM_OK; ::L4MM_EINVAL if b or out is NULL, order > max_order or lo >= hi;
 *         ::L4MM_ENOMEM if no free block of that order lies inside the window (also when the
 *         window does not meet the range).
 * @par Cost O(m * L).
 */
l4mm_status l4mm_buddy_alloc_in(struct l4mm_buddy *b, unsigned order, l4mm_addr_t lo,
                                l4mm_addr_t hi, l4mm_addr_t *out);

/**
 * @brief Allocate exactly the block [addr, addr + 2^order units) (sigma0-style requests).
 * @param b the instance.
 * @param addr the block's address.
 * @param order block order.
 * @return ::L4MM_OK; ::L4MM_EINVAL if b is NULL, order > max_order, addr is not aligned to
 *         the block size, or the block is not wholly inside the range; ::L4MM_EBUSY if any unit
 *         of it is not free.
 * @par Cost O(m * L).
 */
l4mm_status l4mm_buddy_alloc_at(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order);

/**
 * @brief Free an allocated block, coalescing with free buddies.
 * @param b the instance.
 * @param addr the block's address.
 * @param order the order it was allocated with.
 * @return ::L4MM_OK; ::L4MM_EINVAL as for l4mm_buddy_alloc_at() (checked first, so a
 *         misaligned wrong-order free is EINVAL); ::L4MM_ENOENT if exactly that block is not
 *         allocated (double free, never allocated, wrong order, reserved or free range).
 * @par Cost O(m * L) (O(1) to validate, a merge over at most m orders, possibly after
 *      writing out a pending split); O(L) when it frees the block of the pending split,
 *      O(1) (no metadata write) when it frees the block of a ghost split (see gh_s).
 *      Never touches the managed range.
 */
l4mm_status l4mm_buddy_free(struct l4mm_buddy *b, l4mm_addr_t addr, unsigned order);

/**
 * @brief Report unit counts and the canonical free-block decomposition.
 * @param b the instance (NULL or uninitialised: *out is zeroed, largest_free_order -1).
 * @param out receives the statistics; ignored if NULL.
 * @par Cost O(64). Read-only.
 */
void l4mm_buddy_stats(const struct l4mm_buddy *b, struct l4mm_buddy_stats *out);

/**
 * @brief Full invariant check: walks every metadata word and every node.
 *
 * Detects any damage confined to one 64-bit metadata word with certainty (a signature of
 * all words is kept), and checks every bit's meaning: summaries against their children,
 * padding bits zero, every block inside the range, no overlap, counters against a recount.
 * @param b the instance.
 * @return ::L4MM_OK; ::L4MM_EINVAL if b is NULL; ::L4MM_ECORRUPT on any damage (never asserts).
 * @par Cost O(n) plus O(meta words). Read-only.
 */
l4mm_status l4mm_buddy_check(const struct l4mm_buddy *b);

/**
 * @brief Quick sanity check of the instance struct only (magic, geometry seal, counters).
 * @param b the instance.
 * @return ::L4MM_OK; ::L4MM_EINVAL if b is NULL; ::L4MM_ECORRUPT if the struct is damaged.
 * @par Cost O(1) (a bounded loop over at most 64 orders). Read-only.
 */
l4mm_status l4mm_buddy_check_quick(const struct l4mm_buddy *b);

/**
 * @brief Query the state of one unit (for tests and debuggers).
 * @param b the instance.
 * @param addr an address inside the range (need not be aligned).
 * @param state receives 0 for reserved, 1 for free, 2 for allocated.
 * @return ::L4MM_OK; ::L4MM_EINVAL if b or state is NULL or addr is outside the range.
 * @par Cost O(m).
 */
l4mm_status l4mm_buddy_unit_state(const struct l4mm_buddy *b, l4mm_addr_t addr, int *state);

#ifdef __cplusplus
}
#endif

#endif /* L4MM_BUDDY_H */
