/*
 * fuzz_ipcmsg_x2.c - every X.2 decoder, 64- and 32-bit: whatever decodes must re-encode,
 * tags to the identical word, everything else to a word that decodes to the same fields.
 * Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/ipcmsg.h>

#include "fuzz_ipcmsg_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_word(uint64_t w)
{
    struct l4mm_fpage f, g;
    struct l4mm_msgtag t;
    struct l4mm_x2_acceptor a, b;
    unsigned st, st2;
    uint64_t v;
    uint32_t v32, w32 = (uint32_t)w;

    if (l4mm_x2_fpage_decode(w, &f) == L4MM_OK) {
        must(l4mm_x2_fpage_encode(&f, &v) == L4MM_OK && v == w);
        must(l4mm_x2_fpage_decode(v, &g) == L4MM_OK && fpage_eq(&f, &g));
    }
    if (l4mm_x2_fpage_decode_32(w32, &f) == L4MM_OK) {
        must(l4mm_x2_fpage_encode_32(&f, &v32) == L4MM_OK && v32 == w32);
        must(l4mm_x2_fpage_decode_32(v32, &g) == L4MM_OK && fpage_eq(&f, &g));
    }
    if (l4mm_x2_tag_decode(w, &t) == L4MM_OK)
        must(l4mm_x2_tag_encode(&t, &v) == L4MM_OK && v == w);
    if (l4mm_x2_tag_decode_32(w32, &t) == L4MM_OK)
        must(l4mm_x2_tag_encode_32(&t, &v32) == L4MM_OK && v32 == w32);
    if (l4mm_x2_acceptor_decode(w, &a) == L4MM_OK) {
        must(l4mm_x2_acceptor_encode(&a, &v) == L4MM_OK && v == w);
        must(l4mm_x2_acceptor_decode(v, &b) == L4MM_OK && fpage_eq(&a.window, &b.window));
    }
    if (l4mm_x2_acceptor_decode_32(w32, &a) == L4MM_OK)
        must(l4mm_x2_acceptor_encode_32(&a, &v32) == L4MM_OK && v32 == w32);
    if (l4mm_x2_unmap_status_decode(w, &f, &st) == L4MM_OK) {
        must(l4mm_x2_unmap_status_encode(&f, st, &v) == L4MM_OK && v == w);
        must(l4mm_x2_unmap_status_decode(v, &g, &st2) == L4MM_OK && st == st2);
    }
    if (l4mm_x2_unmap_status_decode_32(w32, &f, &st) == L4MM_OK)
        must(l4mm_x2_unmap_status_encode_32(&f, st, &v32) == L4MM_OK && v32 == w32);
}

static void two_words(const uint64_t w[2])
{
    struct l4mm_map_item it, it2;
    struct l4mm_kip_memdesc d, e;
    uint64_t v[2];
    uint32_t w32[2] = { (uint32_t)w[0], (uint32_t)w[1] }, v32[2];

    if (l4mm_x2_item_decode(w, &it) == L4MM_OK) {
        must(l4mm_x2_item_encode(&it, v) == L4MM_OK && v[0] == w[0] && v[1] == w[1]);
        must(l4mm_x2_item_decode(v, &it2) == L4MM_OK && item_eq(&it, &it2));
    }
    if (l4mm_x2_item_decode_32(w32, &it) == L4MM_OK) {
        must(l4mm_x2_item_encode_32(&it, v32) == L4MM_OK && v32[0] == w32[0] && v32[1] == w32[1]);
    }
    if (l4mm_x2_kip_memdesc_decode(w, &d) == L4MM_OK) {
        must(l4mm_x2_kip_memdesc_encode(&d, v) == L4MM_OK && v[0] == w[0] && v[1] == w[1]);
        must(l4mm_x2_kip_memdesc_decode(v, &e) == L4MM_OK && d.low == e.low && d.high == e.high);
    }
    if (l4mm_x2_kip_memdesc_decode_32(w32, &d) == L4MM_OK)
        must(l4mm_x2_kip_memdesc_encode_32(&d, v32) == L4MM_OK && v32[0] == w32[0] &&
             v32[1] == w32[1]);
}

static void sigma0(const uint64_t *mr, size_t n)
{
    struct l4mm_x2_sigma0_req r, r2;
    struct l4mm_map_item it, it2;
    uint64_t v[4];
    uint32_t mr32[4], v32[4];
    size_t k, i;

    for (i = 0; i < n && i < 4u; i++)
        mr32[i] = (uint32_t)mr[i];
    if (l4mm_x2_sigma0_req_decode(mr, n, &r) == L4MM_OK) {
        must(l4mm_x2_sigma0_req_encode(&r, v, &k) == L4MM_OK);
        must(l4mm_x2_sigma0_req_decode(v, k, &r2) == L4MM_OK);
        must(r.any == r2.any && r.attr == r2.attr && fpage_eq(&r.fpage, &r2.fpage));
    }
    if (l4mm_x2_sigma0_req_decode_32(mr32, n < 4u ? n : 4u, &r) == L4MM_OK) {
        must(l4mm_x2_sigma0_req_encode_32(&r, v32, &k) == L4MM_OK);
        must(l4mm_x2_sigma0_req_decode_32(v32, k, &r2) == L4MM_OK);
        must(r.any == r2.any && r.attr == r2.attr && fpage_eq(&r.fpage, &r2.fpage));
    }
    if (l4mm_x2_sigma0_reply_decode(mr, n, &it) == L4MM_OK) {
        must(l4mm_x2_sigma0_reply_encode(&it, v) == L4MM_OK);
        must(l4mm_x2_sigma0_reply_decode(v, 3, &it2) == L4MM_OK && item_eq(&it, &it2));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t w[8] = { 0 };
    size_t n = size / 8u < 8u ? size / 8u : 8u;
    memcpy(w, data, n * 8u);
    for (size_t i = 0; i < n; i++)
        one_word(w[i]);
    for (size_t i = 0; i + 1u < n; i++)
        two_words(&w[i]);
    sigma0(w, n);
    return 0;
}
