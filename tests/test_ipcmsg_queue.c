/*
 * test_ipcmsg_queue.c - the bounded message queue (l4mm_msgq) and its single-producer /
 * single-consumer variant (l4mm_spscq), including a two-thread SPSC run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/ipcmsg.h>

struct msg {
    uint64_t seq;
    uint32_t payload[3];
};

static uint64_t storage[64];

static void test_msgq_init_rejects_bad_geometry(void **state)
{
    struct l4mm_msgq q;
    (void)state;
    memset(&q, 0x5c, sizeof q);
    struct l4mm_msgq keep = q;
    assert_int_equal(l4mm_msgq_init(&q, storage, sizeof storage, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_init(&q, storage, 7, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_init(&q, NULL, 64, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_init(NULL, storage, 64, 8), L4MM_EINVAL);
    assert_memory_equal(&q, &keep, sizeof q);
    assert_int_equal(l4mm_msgq_init(&q, storage, 8, 8), L4MM_OK); /* exactly one */
    assert_int_equal(l4mm_msgq_check(&q), L4MM_OK);
}

static void test_msgq_capacity_is_exactly_storage_over_msg_size(void **state)
{
    struct l4mm_msgq q;
    struct msg m = { 0, { 0 } };
    size_t sizes[] = { 1, 3, 7, 24, 100, 511 };
    (void)state;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t ms = sizes[k] < sizeof m ? sizes[k] : sizeof m;
        size_t cap = sizes[k] / ms;
        size_t n = 0;
        assert_int_equal(l4mm_msgq_init(&q, storage, sizes[k], ms), L4MM_OK);
        while (l4mm_msgq_push(&q, &m) == L4MM_OK)
            n++;
        assert_int_equal(n, cap);
        assert_int_equal(l4mm_msgq_count(&q), cap);
        assert_int_equal(l4mm_msgq_check(&q), L4MM_OK);
    }
}

static void test_msgq_is_fifo_and_busy_when_full_overwrites_nothing(void **state)
{
    struct l4mm_msgq q;
    struct msg m, out;
    (void)state;
    assert_int_equal(l4mm_msgq_init(&q, storage, 5 * sizeof m + 3, sizeof m), L4MM_OK);
    for (uint64_t i = 0; i < 5; i++) {
        m.seq = i;
        m.payload[0] = (uint32_t)(i * 3);
        assert_int_equal(l4mm_msgq_push(&q, &m), L4MM_OK);
    }
    m.seq = 99;
    assert_int_equal(l4mm_msgq_push(&q, &m), L4MM_EBUSY);
    assert_int_equal(l4mm_msgq_count(&q), 5u);
    for (uint64_t i = 0; i < 5; i++) {
        assert_int_equal(l4mm_msgq_pop(&q, &out), L4MM_OK);
        assert_int_equal(out.seq, i);
        assert_int_equal(out.payload[0], i * 3);
    }
    memset(&out, 0x42, sizeof out);
    struct msg keep = out;
    assert_int_equal(l4mm_msgq_pop(&q, &out), L4MM_ENOENT);
    assert_memory_equal(&out, &keep, sizeof out);
    assert_int_equal(l4mm_msgq_check(&q), L4MM_OK);
}

static void test_msgq_wraps_around_in_order(void **state)
{
    struct l4mm_msgq q;
    struct msg m = { 0, { 0 } }, out;
    uint64_t next_in = 0, next_out = 0, s = 12345;
    (void)state;
    assert_int_equal(l4mm_msgq_init(&q, storage, 7 * sizeof m, sizeof m), L4MM_OK);
    for (unsigned i = 0; i < 1000000u; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((s >> 33) & 1u) {
            m.seq = next_in;
            l4mm_status st = l4mm_msgq_push(&q, &m);
            if (next_in - next_out == 7u) {
                assert_int_equal(st, L4MM_EBUSY);
            } else {
                assert_int_equal(st, L4MM_OK);
                next_in++;
            }
        } else {
            l4mm_status st = l4mm_msgq_pop(&q, &out);
            if (next_in == next_out) {
                assert_int_equal(st, L4MM_ENOENT);
            } else {
                assert_int_equal(st, L4MM_OK);
                assert_int_equal(out.seq, next_out);
                next_out++;
            }
        }
        assert_int_equal(l4mm_msgq_count(&q), next_in - next_out);
    }
    assert_int_equal(l4mm_msgq_check(&q), L4MM_OK);
}

static void test_msgq_null_arguments(void **state)
{
    struct l4mm_msgq q;
    struct msg m = { 0, { 0 } };
    (void)state;
    assert_int_equal(l4mm_msgq_init(&q, storage, sizeof storage, sizeof m), L4MM_OK);
    assert_int_equal(l4mm_msgq_push(NULL, &m), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_push(&q, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_pop(NULL, &m), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_pop(&q, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_count(NULL), 0u);
    assert_int_equal(l4mm_msgq_check(NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_msgq_count(&q), 0u);
    assert_int_equal(l4mm_msgq_check(&q), L4MM_OK);
}

static void test_msgq_check_detects_corruption(void **state)
{
    struct l4mm_msgq q, good;
    struct msg m = { 0, { 0 } };
    (void)state;
    assert_int_equal(l4mm_msgq_init(&good, storage, sizeof storage, sizeof m), L4MM_OK);
    assert_int_equal(l4mm_msgq_push(&good, &m), L4MM_OK);
    assert_int_equal(l4mm_ipcmsg_check(&good), L4MM_OK);
    q = good;
    q.count = q.capacity + 1;
    assert_int_equal(l4mm_msgq_check(&q), L4MM_ECORRUPT);
    q = good;
    q.head = q.capacity;
    assert_int_equal(l4mm_msgq_check(&q), L4MM_ECORRUPT);
    q = good;
    q.capacity++;
    assert_int_equal(l4mm_ipcmsg_check(&q), L4MM_ECORRUPT);
    q = good;
    q.msg_size = 0;
    assert_int_equal(l4mm_msgq_check(&q), L4MM_ECORRUPT);
    q = good;
    q.storage = NULL;
    assert_int_equal(l4mm_msgq_check(&q), L4MM_ECORRUPT);
    assert_int_equal(l4mm_msgq_check(&good), L4MM_OK);
}

/* ---- SPSC ------------------------------------------------------------------------------ */

static void test_spscq_single_thread_semantics(void **state)
{
    struct l4mm_spscq q;
    struct msg m = { 0, { 0 } }, out;
    (void)state;
    assert_int_equal(l4mm_spscq_init(&q, storage, sizeof m - 1, sizeof m), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_init(&q, storage, 64, 0), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_init(&q, NULL, 64, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_init(NULL, storage, 64, 8), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_init(&q, storage, 3 * sizeof m + 5, sizeof m), L4MM_OK);
    assert_int_equal(l4mm_spscq_pop(&q, &out), L4MM_ENOENT);
    for (uint64_t round = 0; round < 10; round++) {
        for (uint64_t i = 0; i < 3; i++) {
            m.seq = round * 10 + i;
            assert_int_equal(l4mm_spscq_push(&q, &m), L4MM_OK);
        }
        m.seq = 999;
        assert_int_equal(l4mm_spscq_push(&q, &m), L4MM_EBUSY);
        for (uint64_t i = 0; i < 3; i++) {
            assert_int_equal(l4mm_spscq_pop(&q, &out), L4MM_OK);
            assert_int_equal(out.seq, round * 10 + i);
        }
        assert_int_equal(l4mm_spscq_pop(&q, &out), L4MM_ENOENT);
        assert_int_equal(l4mm_spscq_check(&q), L4MM_OK);
    }
    assert_int_equal(l4mm_spscq_push(NULL, &m), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_push(&q, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_pop(&q, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_spscq_check(NULL), L4MM_EINVAL);
}

static void test_spscq_check_detects_corruption(void **state)
{
    struct l4mm_spscq q;
    struct msg m = { 0, { 0 } };
    (void)state;
    assert_int_equal(l4mm_spscq_init(&q, storage, 4 * sizeof m, sizeof m), L4MM_OK);
    assert_int_equal(l4mm_spscq_push(&q, &m), L4MM_OK);
    __atomic_store_n(&q.tail, 2 * q.capacity, __ATOMIC_SEQ_CST); /* out of range */
    assert_int_equal(l4mm_spscq_check(&q), L4MM_ECORRUPT);
    __atomic_store_n(&q.tail, 1, __ATOMIC_SEQ_CST);
    assert_int_equal(l4mm_spscq_check(&q), L4MM_OK);
    __atomic_store_n(
        &q.head, 2,
        __ATOMIC_SEQ_CST); /* head ahead of tail by 2*cap-1: more than capacity queued */
    assert_int_equal(l4mm_spscq_check(&q), L4MM_ECORRUPT);
    __atomic_store_n(&q.head, 0, __ATOMIC_SEQ_CST);
    q.capacity = 5;
    assert_int_equal(l4mm_spscq_check(&q), L4MM_ECORRUPT);
    q.capacity = 4;
    assert_int_equal(l4mm_spscq_check(&q), L4MM_OK);
}

#define SPSC_N 300000u

struct spsc_ctx {
    struct l4mm_spscq q;
    uint64_t busy;
};

static void *producer(void *arg)
{
    struct spsc_ctx *c = arg;
    struct msg m;
    for (uint64_t i = 0; i < SPSC_N; i++) {
        m.seq = i;
        m.payload[0] = (uint32_t)(i ^ 0xdeadbeefu);
        m.payload[1] = (uint32_t)(i * 7u);
        m.payload[2] = ~(uint32_t)i;
        while (l4mm_spscq_push(&c->q, &m) == L4MM_EBUSY)
            c->busy++;
    }
    return NULL;
}

static void test_spscq_two_threads_preserve_order_and_payload(void **state)
{
    static uint64_t buf[8 * 3]; /* 8 messages of 24 bytes: forces wrap and full */
    struct spsc_ctx c;
    pthread_t t;
    struct msg out;
    (void)state;
    c.busy = 0;
    assert_int_equal(l4mm_spscq_init(&c.q, buf, sizeof buf, sizeof(struct msg)), L4MM_OK);
    assert_int_equal(pthread_create(&t, NULL, producer, &c), 0);
    for (uint64_t i = 0; i < SPSC_N; i++) {
        while (l4mm_spscq_pop(&c.q, &out) == L4MM_ENOENT)
            ;
        assert_int_equal(out.seq, i);
        assert_int_equal(out.payload[0], (uint32_t)(i ^ 0xdeadbeefu));
        assert_int_equal(out.payload[1], (uint32_t)(i * 7u));
        assert_int_equal(out.payload[2], ~(uint32_t)i);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(l4mm_spscq_pop(&c.q, &out), L4MM_ENOENT);
    assert_int_equal(l4mm_spscq_check(&c.q), L4MM_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_msgq_init_rejects_bad_geometry),
        cmocka_unit_test(test_msgq_capacity_is_exactly_storage_over_msg_size),
        cmocka_unit_test(test_msgq_is_fifo_and_busy_when_full_overwrites_nothing),
        cmocka_unit_test(test_msgq_wraps_around_in_order),
        cmocka_unit_test(test_msgq_null_arguments),
        cmocka_unit_test(test_msgq_check_detects_corruption),
        cmocka_unit_test(test_spscq_single_thread_semantics),
        cmocka_unit_test(test_spscq_check_detects_corruption),
        cmocka_unit_test(test_spscq_two_threads_preserve_order_and_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
