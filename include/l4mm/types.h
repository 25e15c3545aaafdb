/**
 * @file types.h
 * @brief Basic types shared by every l4mm module.
 *
 * Freestanding: needs only <stdint.h>, <stddef.h> and <stdbool.h>.
 */
#ifndef L4MM_TYPES_H
#define L4MM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief An address in whatever space an instance manages: physical frames, a range inside
 *        another process, I/O-port numbers. Always 64 bits, also on 32-bit builds, and
 *        address 0 is a valid address (results come back through out-parameters).
 */
typedef uint64_t l4mm_addr_t;

/** @brief Access rights, in L4 X.2 bit order (fpage bits 0-2). */
enum l4mm_rights {
    L4MM_X = 1u,  /**< execute */
    L4MM_W = 2u,  /**< write */
    L4MM_R = 4u,  /**< read */
    L4MM_RWX = 7u /**< all three */
};

#ifdef __cplusplus
}
#endif

#endif /* L4MM_TYPES_H */
