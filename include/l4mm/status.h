/**
 * @file status.h
 * @brief The status every fallible l4mm function returns.
 *
 * Every function that returns ::l4mm_status leaves all state unchanged when it returns an
 * error (::L4MM_EAGAIN aside, which reports progress; kpool's hooks are the one documented
 * exception). Argument errors (::L4MM_EINVAL) are reported before state errors.
 */
#ifndef L4MM_STATUS_H
#define L4MM_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Result of every fallible l4mm call. */
typedef enum l4mm_status {
    L4MM_OK = 0,  /**< success */
    L4MM_EINVAL,  /**< malformed argument: misaligned, out of range, bad order, bad flags */
    L4MM_ENOMEM,  /**< nothing free satisfies the request */
    L4MM_ENOENT,  /**< no such thing: block not allocated (double free), unknown mapping */
    L4MM_EPERM,   /**< the caller does not hold what the operation needs */
    L4MM_EBUSY,   /**< in use, or queue full: nothing changed, try later */
    L4MM_EAGAIN,  /**< work budget spent: state is consistent, call again to continue */
    L4MM_EDECODE, /**< malformed wire data */
    L4MM_ECORRUPT /**< an invariant check found damage */
} l4mm_status;

/**
 * @brief A short, static, human-readable description of a status.
 * @param s any value, including values outside the enumeration.
 * @return a NUL-terminated string with static storage; never NULL ("unknown status" for
 *         values outside the enumeration).
 *
 * Cost: O(1). Thread-safety: pure; safe from any context.
 */
const char *l4mm_strerror(l4mm_status s);

#ifdef __cplusplus
}
#endif

#endif /* L4MM_STATUS_H */
