/*
 * fuzz_ipcmsg_parse.c - the four message parsers and the two queues.
 *
 * Parsers: the input is the message-register array, exactly `size / 8` (or `size / 4`)
 * words in a heap copy, so reading past n_mr trips ASan. Every accepted message must have
 * a consistent tag, untyped pointing at mr + 1, and items that re-encode to the very words
 * they were parsed from. Queues: the first byte picks a geometry, the rest drive push/pop
 * against a shadow FIFO model.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/ipcmsg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(bool c)
{
    if (!c)
        abort();
}

static void parse64(const uint64_t *mr, size_t n, bool l4re)
{
    struct l4mm_msg m;
    uint64_t v[2], tw;
    size_t first, stride;
    if ((l4re ? l4mm_l4re_msg_parse(mr, n, &m) : l4mm_x2_msg_parse(mr, n, &m)) != L4MM_OK)
        return;
    must(m.untyped == mr + 1 && m.untyped_32 == NULL && m.n_items <= L4MM_MSG_MAX_ITEMS);
    must((l4re ? l4mm_l4re_tag_encode(&m.tag, &tw) : l4mm_x2_tag_encode(&m.tag, &tw)) == L4MM_OK &&
         tw == mr[0]);
    stride = 2u;
    first = 1u + m.tag.untyped;
    must(first + stride * m.n_items <= n);
    for (unsigned i = 0; i < m.n_items; i++) {
        must((l4re ? l4mm_l4re_item_encode(&m.items[i], v) : l4mm_x2_item_encode(&m.items[i], v)) ==
             L4MM_OK);
        must(v[0] == mr[first + 2u * i] && v[1] == mr[first + 2u * i + 1u]);
    }
}

static void parse32(const uint32_t *mr, size_t n, bool l4re)
{
    struct l4mm_msg m;
    uint32_t v[2];
    size_t first;
    if ((l4re ? l4mm_l4re_msg_parse_32(mr, n, &m) : l4mm_x2_msg_parse_32(mr, n, &m)) != L4MM_OK)
        return;
    must(m.untyped_32 == mr + 1 && m.untyped == NULL && m.n_items <= L4MM_MSG_MAX_ITEMS);
    first = 1u + m.tag.untyped;
    for (unsigned i = 0; i < m.n_items; i++) {
        must((l4re ? l4mm_l4re_item_encode_32(&m.items[i], v)
                   : l4mm_x2_item_encode_32(&m.items[i], v)) == L4MM_OK);
        must(v[0] == mr[first + 2u * i] && v[1] == mr[first + 2u * i + 1u]);
    }
}

static void queues(const uint8_t *data, size_t size)
{
    static uint8_t storage[256];
    struct l4mm_msgq q;
    struct l4mm_spscq s;
    size_t msg_size, storage_size, cap, in = 0, out = 0;
    uint8_t msg[16], got[16], got2[16];

    if (size < 2u)
        return;
    msg_size = 1u + (data[0] & 15u);
    storage_size = data[1];
    if (l4mm_msgq_init(&q, storage, storage_size, msg_size) != L4MM_OK) {
        must(storage_size < msg_size);
        must(l4mm_spscq_init(&s, storage + 0, storage_size, msg_size) == L4MM_EINVAL);
        return;
    }
    /* the SPSC queue gets its own storage: the second half of a separate buffer */
    static uint8_t storage2[256];
    must(l4mm_spscq_init(&s, storage2, storage_size, msg_size) == L4MM_OK);
    cap = storage_size / msg_size;
    for (size_t i = 2; i < size; i++) {
        if (data[i] & 1u) {
            memset(msg, (int)(in & 0xffu), sizeof msg);
            l4mm_status a = l4mm_msgq_push(&q, msg), b = l4mm_spscq_push(&s, msg);
            must(a == b);
            must(a == (in - out < cap ? L4MM_OK : L4MM_EBUSY));
            if (a == L4MM_OK)
                in++;
        } else {
            l4mm_status a = l4mm_msgq_pop(&q, got), b = l4mm_spscq_pop(&s, got2);
            must(a == b);
            must(a == (in != out ? L4MM_OK : L4MM_ENOENT));
            if (a == L4MM_OK) {
                for (size_t k = 0; k < msg_size; k++)
                    must(got[k] == (uint8_t)(out & 0xffu) && got2[k] == got[k]);
                out++;
            }
        }
        must(l4mm_msgq_count(&q) == in - out);
        must(l4mm_msgq_check(&q) == L4MM_OK && l4mm_spscq_check(&s) == L4MM_OK);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n64 = size / 8u, n32 = size / 4u;
    uint64_t *mr = malloc(n64 ? n64 * 8u : 1u);
    uint32_t *mr32 = malloc(n32 ? n32 * 4u : 1u);
    if (mr == NULL || mr32 == NULL)
        abort();
    memcpy(mr, data, n64 * 8u);
    memcpy(mr32, data, n32 * 4u);
    parse64(mr, n64, false);
    parse64(mr, n64, true);
    parse32(mr32, n32, false);
    parse32(mr32, n32, true);
    free(mr);
    free(mr32);
    queues(data, size);
    return 0;
}
