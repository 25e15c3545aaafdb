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
 * One generic parser is specialised (always inlined) for each format and word width.
 */
#include "ipcmsg/ipcmsg_internal.h"

/* Read word i of a 64- or 32-bit array; `is32` is a constant in every specialisation. */
static L4MM_IPC_INLINE uint64_t word_at(const void *mr, bool is32, size_t i)
{
    return is32 ? (uint64_t)((const uint32_t *)mr)[i] : ((const uint64_t *)mr)[i];
}

static L4MM_IPC_INLINE bool item_ok(bool l4re, uint64_t w0, uint64_t w1, unsigned wb)
{
    return l4re ? ipcmsg_l4re_item_ok(w0, w1, wb) : ipcmsg_x2_item_ok(w0, w1, wb);
}

static L4MM_IPC_INLINE void item_fill(bool l4re, uint64_t w0, uint64_t w1,
                                      struct l4mm_map_item *out)
{
    if (l4re)
        ipcmsg_l4re_item_fill(w0, w1, out);
    else
        ipcmsg_x2_item_fill(w0, w1, out);
}

/* Always inlined into the four entry points below, so `is32` and `l4re` are constants and
 * each entry point is a straight-line parser for one format and width. */
static L4MM_IPC_INLINE l4mm_status parse(const void *mr, bool is32, size_t n_mr, bool l4re,
                                         struct l4mm_msg *out)
{
    const unsigned wb = is32 ? 32u : 64u;
    struct l4mm_msgtag tag;
    size_t typed_words, first, end, i, k;
    unsigned n_items;
    l4mm_status st;

    if (n_mr == 0u)
        return L4MM_EDECODE;
    st = l4re ? ipcmsg_l4re_tag_dec(word_at(mr, is32, 0), wb, &tag)
              : ipcmsg_x2_tag_dec(word_at(mr, is32, 0), wb, &tag);
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
        if (L4MM_UNLIKELY(!item_ok(l4re, word_at(mr, is32, i), word_at(mr, is32, i + 1u), wb)))
            return L4MM_EDECODE;
    }
    /* pass 2: commit; the same words were accepted above */
    for (k = 0; k < n_items; k++)
        item_fill(l4re, word_at(mr, is32, first + 2u * k), word_at(mr, is32, first + 2u * k + 1u),
                  &out->items[k]);
    out->tag = tag;
    out->n_items = n_items;
    out->untyped = is32 ? NULL : (const uint64_t *)mr + 1;
    out->untyped_32 = is32 ? (const uint32_t *)mr + 1 : NULL;
    return L4MM_OK;
}

l4mm_status l4mm_x2_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(mr, false, n_mr, false, out);
}

l4mm_status l4mm_x2_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(mr, true, n_mr, false, out);
}

l4mm_status l4mm_l4re_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(mr, false, n_mr, true, out);
}

l4mm_status l4mm_l4re_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return parse(mr, true, n_mr, true, out);
}
