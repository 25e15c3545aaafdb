/**
 * @file mapdb.h
 * @brief The recursive mapping database: map, grant, and bounded, resumable unmap.
 *
 * Each physical range has a tree. Its root is the pager's idempotent ownership
 * (l4mm_mapdb_root()); each child is a mapping derived by l4mm_mapdb_map() and moved by
 * l4mm_mapdb_grant(). Rights never escalate: a child's rights are always a subset of its
 * parent's. l4mm_mapdb_unmap() (unbounded) and l4mm_mapdb_unmap_start() /
 * l4mm_mapdb_unmap_step() (bounded by a work budget) remove rights from everything derived
 * from a mapping and delete what is left with no rights, bottom-up. Every change to a mapping
 * that existed before a call is reported through l4mm_mapdb_ops::changed exactly once.
 *
 * Memory: every live mapping owns exactly one node of ::L4MM_MAPDB_NODE_SIZE bytes obtained
 * from l4mm_mapdb_ops::node_alloc; the database allocates nothing else and never recurses.
 *
 * Limits (from packing a mapping into 24 bytes, see docs/mapdb.md):
 *  - order <= ::L4MM_MAPDB_MAX_ORDER;
 *  - vaddr >> order < 2^::L4MM_MAPDB_VPN_BITS and paddr >> order < 2^::L4MM_MAPDB_PPN_BITS
 *    (at 4 KiB pages: virtual and physical addresses below 4 PiB and 1 PiB);
 *  - depth <= ::L4MM_MAPDB_MAX_DEPTH (256 levels counting the root);
 *  - all nodes of one database lie in a 32 GiB window of addresses (links are 32-bit
 *    indices); a node outside it is given back and the call fails with L4MM_ENOMEM.
 *
 * Handles are checked in O(1) before use: a pointer that is not a node of the database (a
 * node of another database, a forged pointer) is refused with ::L4MM_ENOENT, after the
 * argument checks that do not read the node and before those that do. A handle of a
 * mapping already deleted cannot be recognised safely and must not be passed.
 * Thread-safety: none inside; one instance is used by one thread at a time (the caller
 * serialises, e.g. one lock per database). Callbacks run synchronously, from inside the
 * call that causes them, and must not call back into the same database.
 */
#ifndef L4MM_MAPDB_H
#define L4MM_MAPDB_H

#include <l4mm/status.h>
#include <l4mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Size in bytes of one node; node_alloc returns blocks of this size (8-aligned). */
#define L4MM_MAPDB_NODE_SIZE 24u
/** @brief Largest order (log2 of the size in bytes) of a mapping. */
#define L4MM_MAPDB_MAX_ORDER 63u
/** @brief Largest depth of a mapping: roots are 0, so a tree has up to 256 levels. */
#define L4MM_MAPDB_MAX_DEPTH 255u
/** @brief Bits stored for vaddr >> order: a mapping needs vaddr >> order < 2^40. */
#define L4MM_MAPDB_VPN_BITS 40u
/** @brief Bits stored for paddr >> order: a mapping needs paddr >> order < 2^38. */
#define L4MM_MAPDB_PPN_BITS 38u

/** @brief Who holds a mapping (an address space); opaque to the database. */
typedef uint32_t l4mm_space_id;

/**
 * @brief A mapping handle: the node that holds it. Valid from the call that returns it until
 *        the mapping is deleted (reported by `changed` with new_rights 0) or granted away.
 */
typedef struct l4mm_mapping l4mm_mapping;

/** @brief The environment of a database; l4mm_mapdb_init() copies it. */
struct l4mm_mapdb_ops {
    /**
     * @brief Returns an 8-byte aligned block of ::L4MM_MAPDB_NODE_SIZE bytes, or NULL.
     * @param ctx l4mm_mapdb_ops::ctx.
     * @return the block, or NULL (the calling operation then fails with L4MM_ENOMEM).
     */
    void *(*node_alloc)(void *ctx);
    /**
     * @brief Takes back a block returned by node_alloc.
     * @param ctx l4mm_mapdb_ops::ctx.
     * @param node the block; its mapping was reported deleted before (or never existed).
     */
    void (*node_free)(void *ctx, void *node);
    /**
     * @brief Reports a change of rights of a mapping that existed before the call; may be NULL.
     * @param ctx l4mm_mapdb_ops::ctx.
     * @param space the holder of the mapping.
     * @param vaddr where the holder had it.
     * @param order log2 of its size.
     * @param old_rights its rights before.
     * @param new_rights its rights now; 0: the mapping is gone (its handle is invalid).
     */
    void (*changed)(void *ctx, l4mm_space_id space, l4mm_addr_t vaddr, unsigned order,
                    unsigned old_rights, unsigned new_rights);
    void *ctx; /**< passed to every callback */
};

/** @brief What l4mm_mapdb_info() reports about a mapping. */
struct l4mm_mapping_info {
    l4mm_space_id space; /**< holder */
    l4mm_addr_t vaddr;   /**< where the holder has it (aligned to 2^order) */
    l4mm_addr_t paddr;   /**< first byte of the physical range (aligned to 2^order) */
    unsigned order;      /**< log2 of the size in bytes */
    unsigned rights;     /**< L4MM_R / L4MM_W / L4MM_X bits, never 0 for a live mapping */
    unsigned depth;      /**< 0 for a root, parent's depth + 1 for a child */
};

/** @brief Flags of l4mm_mapdb_unmap() and l4mm_mapdb_unmap_start(). */
enum l4mm_mapdb_unmap_flags {
    L4MM_UNMAP_SELF = 1u /**< also reduce (and delete, if left with none) the mapping itself */
};

/**
 * @brief A database instance. Complete so callers can place it anywhere; fields private.
 */
struct l4mm_mapdb {
    struct l4mm_mapdb_ops ops;    /**< private: copy of the caller's ops */
    l4mm_mapping *head;           /**< private: first root of the forest list, or NULL */
    struct l4mm_mapdb_op *active; /**< private: registered budgeted unmaps */
    uintptr_t base;               /**< private: address of link index 0 */
    size_t nodes;                 /**< private: live nodes */
    size_t nactive;               /**< private: registered operations */
    uint32_t lo;                  /**< private: lowest node index handed out */
    uint32_t hi;                  /**< private: highest node index handed out */
};

/**
 * @brief A budgeted unmap in progress. Caller-owned; complete type, fields private. While
 *        registered (from l4mm_mapdb_unmap_start() until l4mm_mapdb_unmap_step() returns OK)
 *        it must stay where it is and must not be reused.
 */
struct l4mm_mapdb_op {
    struct l4mm_mapdb_op *next; /**< private: next registered operation */
    struct l4mm_mapdb_op *prev; /**< private: previous registered operation */
    l4mm_mapping *m;            /**< private: target; NULL once it is gone */
    l4mm_mapping *cur;          /**< private: cursor: the next node to visit */
    l4mm_mapping *pend;         /**< private: top of the run of nodes waiting for deletion */
    l4mm_mapping *first;        /**< private: m's successor when the current pass began */
    l4mm_mapping *stop;         /**< private: where the current pass ends (NULL: subtree end) */
    unsigned rights;            /**< private: rights removed */
    unsigned flags;             /**< private: L4MM_UNMAP_* */
    unsigned phase;             /**< private: 1 not started, 2 walking, 3 finished */
    unsigned depth;             /**< private: depth of the target */
};

/**
 * @brief Initialises an empty database.
 * @param db the instance (any memory; overwritten).
 * @param ops environment; copied, so it need not outlive the call. node_alloc and node_free
 *            are required, changed may be NULL.
 * @return L4MM_OK; L4MM_EINVAL if db or ops is NULL or node_alloc/node_free is NULL
 *         (db unchanged).
 * @par Cost O(1). Never calls ops.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_init(struct l4mm_mapdb *db, const struct l4mm_mapdb_ops *ops);

/**
 * @brief The pager's idempotent ownership of [paddr, paddr + 2^order), held by `space` at
 *        `vaddr` with `rights`.
 * @param db the instance.
 * @param space holder.
 * @param vaddr where the holder has it; aligned to 2^order.
 * @param paddr physical start; aligned to 2^order.
 * @param order log2 of the size, <= ::L4MM_MAPDB_MAX_ORDER.
 * @param rights 1..L4MM_RWX.
 * @param out receives the handle.
 * @return L4MM_OK: new root, or the existing root with the same space, vaddr, paddr and
 *         order (then nothing is allocated or changed and `rights` is ignored);
 *         L4MM_EINVAL: NULL db/out, order too large, misaligned or unencodable address,
 *         rights 0 or above RWX; L4MM_EBUSY: the range overlaps another root's;
 *         L4MM_ENOMEM: node_alloc failed or gave a node outside the window.
 * @par Cost O(total nodes) worst case: the trees are kept sorted by paddr and the walk
 *      stops at the first root above the new range; one node_alloc. Never calls changed.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_root(struct l4mm_mapdb *db, l4mm_space_id space, l4mm_addr_t vaddr,
                            l4mm_addr_t paddr, unsigned order, unsigned rights, l4mm_mapping **out);

/**
 * @brief Maps from's [offset, offset + 2^order) to `to` at `to_vaddr` as a child of `from`
 *        with rights `rights & from.rights`.
 * @param db the instance.
 * @param from a live mapping.
 * @param offset byte offset inside from, aligned to 2^order.
 * @param order log2 of the child's size, <= from's order.
 * @param to the new holder.
 * @param to_vaddr where `to` gets it; aligned to 2^order.
 * @param rights requested rights, <= L4MM_RWX.
 * @param out receives the new handle.
 * @return L4MM_OK; L4MM_EINVAL: NULL argument, piece not inside from, misaligned or
 *         unencodable address, rights above RWX, or from is at ::L4MM_MAPDB_MAX_DEPTH (the
 *         depth limit: the child would be too deep); L4MM_ENOENT: from is not a node of
 *         this database (another database's node, a forged pointer); L4MM_EPERM:
 *         rights & from.rights is empty; L4MM_ENOMEM: node_alloc failed (or its node is
 *         outside the window).
 *         On error nothing changes.
 * @par Cost O(1) plus one node_alloc. Never calls changed (the new mapping is the caller's
 *      to install).
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_map(struct l4mm_mapdb *db, l4mm_mapping *from, l4mm_addr_t offset,
                           unsigned order, l4mm_space_id to, l4mm_addr_t to_vaddr, unsigned rights,
                           l4mm_mapping **out);

/**
 * @brief Moves mapping m to `to` at `to_vaddr` with rights `rights & m.rights`; m's children
 *        are kept. The node is reused: *out is the same handle as m.
 * @param db the instance.
 * @param m a live mapping; not the target of a registered budgeted unmap.
 * @param to the new holder.
 * @param to_vaddr where `to` gets it; aligned to 2^m.order.
 * @param rights requested rights, <= L4MM_RWX.
 * @param out receives the handle.
 * @return L4MM_OK: `changed` reported m's old holder's loss (new_rights 0) and, if rights
 *         were reduced, every reduction/deletion in m's subtree (as by unmap: reductions
 *         top-down, deletions bottom-up) before that loss;
 *         L4MM_EINVAL: NULL argument, misaligned or unencodable to_vaddr, rights above RWX;
 *         L4MM_ENOENT: m is not a node of this database; L4MM_EPERM: rights & m.rights
 *         empty; L4MM_EBUSY: m is the target of a registered budgeted unmap. On error nothing
 *         changes.
 * @par Cost O(1) (+ O(registered ops) if m is referenced by one); with reduced rights
 *      O(size of m's subtree). Never allocates.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_grant(struct l4mm_mapdb *db, l4mm_mapping *m, l4mm_space_id to,
                             l4mm_addr_t to_vaddr, unsigned rights, l4mm_mapping **out);

/**
 * @brief Removes `rights` from every mapping derived from m (and from m with
 *        ::L4MM_UNMAP_SELF); deletes those left with no rights, each after its descendants.
 * @param db the instance.
 * @param m a live mapping.
 * @param rights rights to remove, <= L4MM_RWX; 0 does nothing.
 * @param flags 0 or ::L4MM_UNMAP_SELF.
 * @return L4MM_OK; L4MM_EINVAL: NULL db or m, rights above RWX, unknown flags;
 *         L4MM_ENOENT: m is not a node of this database (nothing changes).
 * @par Cost unbounded: one forward pass over m's subtree: one visit per node, one deletion
 *      step per deleted node + 1, one `changed` per mapping whose rights change,
 *      one node_free per deleted mapping, plus O(registered ops) for each deleted node an
 *      operation refers to. Reductions are made top-down, deletions bottom-up (each mapping
 *      after all its descendants). Never allocates.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_unmap(struct l4mm_mapdb *db, l4mm_mapping *m, unsigned rights,
                             unsigned flags);

/**
 * @brief Registers a budgeted unmap of the same meaning as l4mm_mapdb_unmap(); does no work.
 * @param db the instance.
 * @param op caller-owned record, not currently registered.
 * @param m a live mapping.
 * @param rights rights to remove, <= L4MM_RWX (0: the first step finishes).
 * @param flags 0 or ::L4MM_UNMAP_SELF.
 * @return L4MM_OK: registered; L4MM_EINVAL: NULL argument, rights above RWX, unknown
 *         flags, op already registered, or m not a node of this database (the contract
 *         allows only OK or EINVAL here; nothing changes).
 * @par Cost O(registered ops). Never calls ops.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_unmap_start(struct l4mm_mapdb *db, struct l4mm_mapdb_op *op, l4mm_mapping *m,
                                   unsigned rights, unsigned flags);

/**
 * @brief Continues a registered unmap, visiting at most `budget` nodes (so at most `budget`
 *        `changed` reports and node_free calls).
 * @param db the instance.
 * @param op a registered operation of db.
 * @param budget maximum nodes to visit, >= 1.
 * @return L4MM_EAGAIN: budget spent, more to do (state consistent; any operation may run
 *         before the next step); L4MM_OK: finished (also when m was deleted meanwhile),
 *         op is unregistered and free; L4MM_EINVAL: NULL argument, budget 0, or op not
 *         registered with db (nothing changes).
 * @par Cost O(budget + registered ops). One unit of the budget is one node visited, one
 *      node deleted or the end of a pass; each makes at most one `changed` report. All steps
 *      together make the same single pass as the unbounded unmap, plus a pass over the
 *      mappings created under m itself (without ::L4MM_UNMAP_SELF) after the walk passed m.
 *      Between steps a mapping inside m's subtree may still hold rights (of those removed)
 *      that its parent already lost; every other invariant holds.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_unmap_step(struct l4mm_mapdb *db, struct l4mm_mapdb_op *op, unsigned budget);

/**
 * @brief Finds a mapping held by `space` that covers physical address paddr.
 * @param db the instance.
 * @param paddr physical address.
 * @param space holder.
 * @param out receives the handle (any qualifying mapping).
 * @return L4MM_OK; L4MM_EINVAL: NULL db or out; L4MM_ENOENT: none.
 * @par Cost O(total nodes) worst case: a linear scan of the forest that stops at the first
 *      tree above paddr (the database keeps no index: it may allocate nothing but nodes). Never
 * changes anything.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_find(const struct l4mm_mapdb *db, l4mm_addr_t paddr, l4mm_space_id space,
                            l4mm_mapping **out);

/**
 * @brief Describes a live mapping.
 * @param m a live mapping (NULL: nothing is written).
 * @param out receives the description (NULL: nothing is done).
 * @par Cost O(1). Never changes anything.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
void l4mm_mapdb_info(const l4mm_mapping *m, struct l4mm_mapping_info *out);

/**
 * @brief Verifies every invariant of the database without trusting it: list links, depths
 *        (a root first, no depth jump), child rights and range inside the parent's (rights
 *        beyond the parent only below a registered operation's target and only those it
 *        removes), encodable
 *        fields, roots in ascending and disjoint physical ranges, node count, registered operations
 * well formed.
 * @param db the instance.
 * @return L4MM_OK; L4MM_EINVAL: db NULL; L4MM_ECORRUPT: damage found. Never asserts;
 *         a link outside the range of node addresses ever handed out is reported, not
 *         followed.
 * @par Cost O(total nodes + registered ops x nodes marked as referenced by an operation);
 *      1.25 KiB of stack (the path to the root). Never changes anything.
 * @par Thread-safety
 *      Not thread-safe: the caller serialises every call on one database.
 */
l4mm_status l4mm_mapdb_check(const struct l4mm_mapdb *db);

#ifdef __cplusplus
}
#endif

#endif /* L4MM_MAPDB_H */
