/*
 * fuzz_ipcmsg_l4re.c - every L4Re decoder, 64- and 32-bit: whatever decodes must re-encode
 * (tags to the identical word, fpages and items to the same fields). Violations abort.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/ipcmsg.h>

#include "fuzz_ipcmsg_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t w[8] = { 0 };
    size_t n = size / 8u < 8u ? size / 8u : 8u;
    memcpy(w, data, n * 8u);
    for (size_t i = 0; i < n; i++) {
        struct l4mm_fpage f, g;
        struct l4mm_msgtag t;
        uint64_t v;
        uint32_t v32, w32 = (uint32_t)w[i];
        if (l4mm_l4re_fpage_decode(w[i], &f) == L4MM_OK) {
            must(l4mm_l4re_fpage_encode(&f, &v) == L4MM_OK && v == w[i]);
            must(l4mm_l4re_fpage_decode(v, &g) == L4MM_OK && fpage_eq(&f, &g));
        }
        if (l4mm_l4re_fpage_decode_32(w32, &f) == L4MM_OK) {
            must(l4mm_l4re_fpage_encode_32(&f, &v32) == L4MM_OK && v32 == w32);
            must(l4mm_l4re_fpage_decode_32(v32, &g) == L4MM_OK && fpage_eq(&f, &g));
        }
        if (l4mm_l4re_tag_decode(w[i], &t) == L4MM_OK)
            must(l4mm_l4re_tag_encode(&t, &v) == L4MM_OK && v == w[i]);
        if (l4mm_l4re_tag_decode_32(w32, &t) == L4MM_OK)
            must(l4mm_l4re_tag_encode_32(&t, &v32) == L4MM_OK && v32 == w32);
    }
    for (size_t i = 0; i + 1u < n; i++) {
        struct l4mm_map_item it, it2;
        uint64_t v[2];
        uint32_t w32[2] = { (uint32_t)w[i], (uint32_t)w[i + 1u] }, v32[2];
        if (l4mm_l4re_item_decode(&w[i], &it) == L4MM_OK) {
            must(l4mm_l4re_item_encode(&it, v) == L4MM_OK && v[0] == w[i] && v[1] == w[i + 1u]);
            must(l4mm_l4re_item_decode(v, &it2) == L4MM_OK && item_eq(&it, &it2));
        }
        if (l4mm_l4re_item_decode_32(w32, &it) == L4MM_OK) {
            must(l4mm_l4re_item_encode_32(&it, v32) == L4MM_OK && v32[0] == w32[0] &&
                 v32[1] == w32[1]);
            must(l4mm_l4re_item_decode_32(v32, &it2) == L4MM_OK && item_eq(&it, &it2));
        }
    }
    return 0;
}
