/*
 * parse.c - validating parsers for whole X.2 and L4Re messages.
 *
 * Both formats lay a message out as: tag, untyped words, typed items. They differ in where
 * the tag lives (X.2: MR0; L4Re: a register, which l4mm expects in mr[0]) and in what the
 * tag's typed count counts (X.2: words; L4Re: items of two words).
 *
 * Validate, then commit: the first pass checks every word, the second decodes into `out`,
 * so a refused message leaves `out` untouched. Only mr[0 .. 1 + u + typed words - 1] is
 * read, and that range is checked against n_mr before any of it is touched.
 *
 * The word arrays are read through `struct words`, so one parser serves 64- and 32-bit
 * words; the width test is the same for every word and predicts perfectly.
 */
#include "ipcmsg/ipcmsg_internal.h"

struct words {
    const uint64_t *w64;
    const uint32_t *w32;
};

static inline uint64_t word_at(const struct words *m, size_t i)
{
    return m->w64 != NULL ? m->w64[i] : (uint64_t)m->w32[i];
}

typedef l4mm_status (*item_dec_fn)(uint64_t w0, uint64_t w1, unsigned wb,
                                   struct l4mm_map_item *out);

static l4mm_status parse(const struct words *m, size_t n_mr, unsigned wb, bool l4re,
                         struct l4mm_msg *out)
{
    struct l4mm_msgtag tag;
    item_dec_fn dec = l4re ? l4mm_ipcmsg_l4re_item_dec : l4mm_ipcmsg_x2_item_dec;
    size_t typed_words, first, end, i;
    unsigned n_items;
    l4mm_status st;

    if (n_mr == 0u)
        return L4MM_EDECODE;
    st = l4re ? l4mm_ipcmsg_l4re_tag_dec(word_at(m, 0), wb, &tag)
              : l4mm_ipcmsg_x2_tag_dec(word_at(m, 0), wb, &tag);
    if (st != L4MM_OK)
        return st;
    /* the tag decoders already refuse more words than the architecture's MRs */
    typed_words = l4re ? 2u * (size_t)tag.typed : (size_t)tag.typed;
    first = 1u + (size_t)tag.untyped;
    end = first + typed_words;
    if (end > n_mr)
        return L4MM_EDECODE;
    if ((typed_words & 1u) != 0u) /* X.2: a truncated (or non-map) item */
        return L4MM_EDECODE;
    n_items = (unsigned)(typed_words / 2u);
    if (n_items > L4MM_MSG_MAX_ITEMS)
        return L4MM_EDECODE;

    /* pass 1: validate every item */
    for (i = first; i < end; i += 2u) {
        struct l4mm_map_item tmp;
        st = dec(word_at(m, i), word_at(m, i + 1u), wb, &tmp);
        if (st != L4MM_OK)
            return st;
    }
    /* pass 2: commit (cannot fail: the same words were accepted above) */
    for (i = first; i < end; i += 2u)
        (void)dec(word_at(m, i), word_at(m, i + 1u), wb, &out->items[(i - first) / 2u]);
    out->tag = tag;
    out->n_items = n_items;
    out->untyped = m->w64 != NULL ? m->w64 + 1 : NULL;
    out->untyped_32 = m->w32 != NULL ? m->w32 + 1 : NULL;
    return L4MM_OK;
}

l4mm_status l4mm_x2_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    struct words m = { mr, NULL };
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(&m, n_mr, 64u, false, out);
}

l4mm_status l4mm_x2_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    struct words m = { NULL, mr };
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(&m, n_mr, 32u, false, out);
}

l4mm_status l4mm_l4re_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    struct words m = { mr, NULL };
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(&m, n_mr, 64u, true, out);
}

l4mm_status l4mm_l4re_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    struct words m = { NULL, mr };
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(&m, n_mr, 32u, true, out);
}
