/*
 * ipcmsg_internal.h - helpers shared by the ipcmsg codecs (internal, not installed).
 *
 * Every codec is written once over uint64_t with the word width `wb` (32 or 64) as a
 * parameter; the public 64-bit and _32 entry points are thin wrappers. A 32-bit word is
 * widened to uint64_t before decoding, so decoders only see bits the word really has.
 */
#ifndef L4MM_IPCMSG_INTERNAL_H
#define L4MM_IPCMSG_INTERNAL_H

#include "common/glue.h"
#include <l4mm/ipcmsg.h>

/* All ones in the low `wb` bits. */
static inline uint64_t ipcmsg_wmask(unsigned wb)
{
    return wb >= 64u ? ~(uint64_t)0 : (((uint64_t)1 << wb) - 1u);
}

/* 2^order - 1, for order 0..63. */
static inline uint64_t ipcmsg_lowmask(unsigned order)
{
    return order >= 64u ? ~(uint64_t)0 : (((uint64_t)1 << order) - 1u);
}

/* Tag label field: bits 16..wb-1, signed. */
static inline bool ipcmsg_label_fits(int64_t label, unsigned wb)
{
    unsigned lbits = wb - 16u;
    int64_t max = (int64_t)(((uint64_t)1 << (lbits - 1u)) - 1u);
    int64_t min = -max - 1;
    return label >= min && label <= max;
}

static inline uint64_t ipcmsg_label_to_field(int64_t label, unsigned wb)
{
    uint64_t lmask = ipcmsg_wmask(wb - 16u);
    if (label >= 0)
        return (uint64_t)label;
    /* two's complement in lbits bits without signed overflow */
    return lmask - (uint64_t)(-(label + 1));
}

static inline int64_t ipcmsg_field_to_label(uint64_t field, unsigned wb)
{
    unsigned lbits = wb - 16u;
    uint64_t lmask = ipcmsg_wmask(lbits);
    field &= lmask;
    if ((field >> (lbits - 1u)) != 0u)
        return -(int64_t)(lmask - field) - 1;
    return (int64_t)field;
}

/* Generic codecs (wb = 32 or 64). Inputs are already non-NULL. */
l4mm_status l4mm_ipcmsg_x2_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_x2_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out);
l4mm_status l4mm_ipcmsg_x2_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2]);
l4mm_status l4mm_ipcmsg_x2_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                    struct l4mm_map_item *out);
l4mm_status l4mm_ipcmsg_x2_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_x2_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out);
l4mm_status l4mm_ipcmsg_l4re_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_l4re_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out);
l4mm_status l4mm_ipcmsg_l4re_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2]);
l4mm_status l4mm_ipcmsg_l4re_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                      struct l4mm_map_item *out);
l4mm_status l4mm_ipcmsg_l4re_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_l4re_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out);

#endif /* L4MM_IPCMSG_INTERNAL_H */
