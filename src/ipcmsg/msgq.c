/*
 * msgq.c - bounded FIFO rings of fixed-size messages in caller storage.
 *
 * l4mm_msgq: single-threaded ring (head + count), refuses with EBUSY when full so a kernel
 * can offer asynchronous IPC without unbounded allocation.
 *
 * l4mm_spscq: one producer and one consumer running concurrently. Each side owns one index
 * and only reads the other's. Indices run over [0, 2 * capacity): equal means empty, a
 * distance of capacity means full, so every slot is usable and no division is needed.
 *
 *   producer: copy into slot(tail)  ->  store_release(tail + 1)
 *   consumer: load_acquire(tail)    ->  copy out of slot(head)  ->  store_release(head + 1)
 *
 * The acquire load of the other side's index orders the payload copy after the other side's
 * release, so a slot is never read before it is written nor overwritten before it is read.
 * The indices are accessed only through gcc/clang `__atomic` builtins (the operations C11
 * atomics compile to; freestanding, no library calls for aligned word-sized loads/stores),
 * which keeps <stdatomic.h> out of the public header.
 */
#include "ipcmsg/ipcmsg_internal.h"

static void copy_bytes(unsigned char *d, const unsigned char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        d[i] = s[i];
}

l4mm_status l4mm_msgq_init(struct l4mm_msgq *q, void *storage, size_t storage_size, size_t msg_size)
{
    if (q == NULL || storage == NULL || msg_size == 0u || storage_size < msg_size)
        return L4MM_EINVAL;
    q->storage = (unsigned char *)storage;
    q->storage_size = storage_size;
    q->msg_size = msg_size;
    q->capacity = storage_size / msg_size;
    q->head = 0;
    q->count = 0;
    return L4MM_OK;
}

l4mm_status l4mm_msgq_push(struct l4mm_msgq *q, const void *msg)
{
    size_t slot;
    if (q == NULL || msg == NULL)
        return L4MM_EINVAL;
    if (q->count >= q->capacity)
        return L4MM_EBUSY;
    slot = q->head + q->count;
    if (slot >= q->capacity)
        slot -= q->capacity;
    copy_bytes(q->storage + slot * q->msg_size, (const unsigned char *)msg, q->msg_size);
    q->count++;
    return L4MM_OK;
}

l4mm_status l4mm_msgq_pop(struct l4mm_msgq *q, void *msg)
{
    if (q == NULL || msg == NULL)
        return L4MM_EINVAL;
    if (q->count == 0u)
        return L4MM_ENOENT;
    copy_bytes((unsigned char *)msg, q->storage + q->head * q->msg_size, q->msg_size);
    q->head = q->head + 1u == q->capacity ? 0u : q->head + 1u;
    q->count--;
    return L4MM_OK;
}

size_t l4mm_msgq_count(const struct l4mm_msgq *q)
{
    return q == NULL ? 0u : q->count;
}

l4mm_status l4mm_msgq_check(const struct l4mm_msgq *q)
{
    if (q == NULL)
        return L4MM_EINVAL;
    if (q->storage == NULL || q->msg_size == 0u || q->storage_size < q->msg_size ||
        q->capacity != q->storage_size / q->msg_size || q->head >= q->capacity ||
        q->count > q->capacity)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_check(const struct l4mm_msgq *q)
{
    return l4mm_msgq_check(q);
}

/* ---- SPSC ------------------------------------------------------------------------------ */

static size_t spsc_next(const struct l4mm_spscq *q, size_t i)
{
    return i + 1u == 2u * q->capacity ? 0u : i + 1u;
}

static size_t spsc_slot(const struct l4mm_spscq *q, size_t i)
{
    return i >= q->capacity ? i - q->capacity : i;
}

static size_t spsc_used(const struct l4mm_spscq *q, size_t head, size_t tail)
{
    return tail >= head ? tail - head : tail + 2u * q->capacity - head;
}

l4mm_status l4mm_spscq_init(struct l4mm_spscq *q, void *storage, size_t storage_size,
                            size_t msg_size)
{
    size_t cap;
    if (q == NULL || storage == NULL || msg_size == 0u || storage_size < msg_size)
        return L4MM_EINVAL;
    cap = storage_size / msg_size;
    if (cap > SIZE_MAX / 2u)
        return L4MM_EINVAL;
    q->storage = (unsigned char *)storage;
    q->storage_size = storage_size;
    q->msg_size = msg_size;
    q->capacity = cap;
    q->head = 0u; /* before either side runs: no ordering needed */
    q->tail = 0u;
    return L4MM_OK;
}

l4mm_status l4mm_spscq_push(struct l4mm_spscq *q, const void *msg)
{
    size_t tail, head;
    if (q == NULL || msg == NULL)
        return L4MM_EINVAL;
    tail = __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
    head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
    if (spsc_used(q, head, tail) >= q->capacity)
        return L4MM_EBUSY;
    copy_bytes(q->storage + spsc_slot(q, tail) * q->msg_size, (const unsigned char *)msg,
               q->msg_size);
    __atomic_store_n(&q->tail, spsc_next(q, tail), __ATOMIC_RELEASE);
    return L4MM_OK;
}

l4mm_status l4mm_spscq_pop(struct l4mm_spscq *q, void *msg)
{
    size_t tail, head;
    if (q == NULL || msg == NULL)
        return L4MM_EINVAL;
    head = __atomic_load_n(&q->head, __ATOMIC_RELAXED);
    tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
    if (head == tail)
        return L4MM_ENOENT;
    copy_bytes((unsigned char *)msg, q->storage + spsc_slot(q, head) * q->msg_size, q->msg_size);
    __atomic_store_n(&q->head, spsc_next(q, head), __ATOMIC_RELEASE);
    return L4MM_OK;
}

l4mm_status l4mm_spscq_check(const struct l4mm_spscq *q)
{
    size_t head, tail;
    if (q == NULL)
        return L4MM_EINVAL;
    if (q->storage == NULL || q->msg_size == 0u || q->storage_size < q->msg_size ||
        q->capacity != q->storage_size / q->msg_size || q->capacity > SIZE_MAX / 2u)
        return L4MM_ECORRUPT;
    head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
    tail = __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE);
    if (head >= 2u * q->capacity || tail >= 2u * q->capacity ||
        spsc_used(q, head, tail) > q->capacity)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}
