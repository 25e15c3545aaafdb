/*
 * l4re.c - Fiasco.OC / L4Re fpage, send item and message tag codecs.
 *
 * Layouts (facts from L4Re l4sys/include/__l4_fpage.h, consts.h, types.h):
 *
 *   fpage      | page : wb-12 | order : 6 | type : 2 | rights : 4 |
 *              type 0 special (order 0: invalid, order 63: all spaces), 1 mem, 2 io, 3 obj;
 *              mem: page = address bits 12+; io: port << 12; obj: capability index << 12
 *   item w0    | hot spot : wb-12 | 0 : 4 | attr : 4 | map : 1 | 0 : 1 | grant : 1 | cont : 1 |
 *   item w1    | fpage |
 *   tag        | label : wb-16 | flags : 4 | items : 6 | words : 6 |
 */
#include "ipcmsg/ipcmsg_internal.h"

/* Largest value of the base field for a kind (in the kind's units). */
l4mm_status l4mm_ipcmsg_l4re_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w)
{
    unsigned type;
    uint64_t page;

    if (f->nil || f->complete) {
        if ((f->nil && f->complete) || f->kind != L4MM_FPAGE_MEM || f->base != 0u ||
            f->order != 0u || f->rights > 15u)
            return L4MM_EINVAL;
        *w = (f->complete ? (uint64_t)RE_WHOLE_SPACE << 6 : 0u) | f->rights;
        return L4MM_OK;
    }
    if (f->kind != L4MM_FPAGE_MEM && f->kind != L4MM_FPAGE_IO && f->kind != L4MM_FPAGE_OBJ)
        return L4MM_EINVAL;
    if (f->rights > (f->kind == L4MM_FPAGE_OBJ ? 15u : 7u) || f->order < re_min_order(f->kind) ||
        f->order > re_max_order(f->kind, wb) || f->base > re_max_base(f->kind, wb) ||
        (f->base & ipcmsg_lowmask(f->order)) != 0u)
        return L4MM_EINVAL;
    if (f->kind == L4MM_FPAGE_MEM) {
        type = RE_TYPE_MEM;
        page = f->base;
    } else {
        type = f->kind == L4MM_FPAGE_IO ? (unsigned)RE_TYPE_IO : (unsigned)RE_TYPE_OBJ;
        page = f->base << 12;
    }
    *w = page | ((uint64_t)f->order << 6) | ((uint64_t)type << 4) | f->rights;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_l4re_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out)
{
    return ipcmsg_l4re_fpage_dec(w, wb, out);
}

/* The hot spot in the kind's units, as stored from bit 12 of the control word. */
static bool re_spot_to_field(const struct l4mm_map_item *it, unsigned wb, uint64_t *field)
{
    if (it->fpage.kind == L4MM_FPAGE_MEM || it->fpage.nil || it->fpage.complete) {
        if ((it->snd_base & 0xfffu) != 0u || it->snd_base > ipcmsg_wmask(wb))
            return false;
        *field = it->snd_base;
        return true;
    }
    if (it->snd_base > ipcmsg_wmask(wb - 12u))
        return false;
    *field = it->snd_base << 12;
    return true;
}

l4mm_status l4mm_ipcmsg_l4re_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2])
{
    uint64_t fw, spot = 0;
    l4mm_status st;

    if (it->attr > 15u || !re_spot_to_field(it, wb, &spot))
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_fpage_enc(&it->fpage, wb, &fw);
    if (st != L4MM_OK)
        return st;
    w[0] = spot | ((uint64_t)it->attr << 4) | RE_ITEM_MAP | (it->grant ? RE_ITEM_GRANT : 0u) |
           (it->more ? RE_ITEM_CONT : 0u);
    w[1] = fw;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_l4re_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                      struct l4mm_map_item *out)
{
    return ipcmsg_l4re_item_dec(w0, w1, wb, out);
}

l4mm_status l4mm_ipcmsg_l4re_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w)
{
    if (t->untyped > RE_FIELD6 || t->typed > RE_FIELD6 ||
        t->untyped + 2u * t->typed > L4MM_L4RE_NUM_MRS || t->flags > 15u ||
        !ipcmsg_label_fits(t->label, wb))
        return L4MM_EINVAL;
    *w = (ipcmsg_label_to_field(t->label, wb) << 16) | ((uint64_t)t->flags << 12) |
         ((uint64_t)t->typed << 6) | t->untyped;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_l4re_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out)
{
    return ipcmsg_l4re_tag_dec(w, wb, out);
}

/* ---- public wrappers ------------------------------------------------------------------- */

l4mm_status l4mm_l4re_fpage_encode(const struct l4mm_fpage *f, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_fpage_enc(f, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_l4re_fpage_decode(uint64_t w, struct l4mm_fpage *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_fpage_dec(w, 64u, out);
}

l4mm_status l4mm_l4re_item_encode(const struct l4mm_map_item *it, uint64_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (it == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_item_enc(it, 64u, v);
    if (st == L4MM_OK) {
        w[0] = v[0];
        w[1] = v[1];
    }
    return st;
}

l4mm_status l4mm_l4re_item_decode(const uint64_t w[2], struct l4mm_map_item *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_item_dec(w[0], w[1], 64u, out);
}

l4mm_status l4mm_l4re_tag_encode(const struct l4mm_msgtag *t, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (t == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_tag_enc(t, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_l4re_tag_decode(uint64_t w, struct l4mm_msgtag *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_tag_dec(w, 64u, out);
}

l4mm_status l4mm_l4re_fpage_encode_32(const struct l4mm_fpage *f, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_fpage_enc(f, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_l4re_fpage_decode_32(uint32_t w, struct l4mm_fpage *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_fpage_dec(w, 32u, out);
}

l4mm_status l4mm_l4re_item_encode_32(const struct l4mm_map_item *it, uint32_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (it == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_item_enc(it, 32u, v);
    if (st == L4MM_OK) {
        w[0] = (uint32_t)v[0];
        w[1] = (uint32_t)v[1];
    }
    return st;
}

l4mm_status l4mm_l4re_item_decode_32(const uint32_t w[2], struct l4mm_map_item *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_item_dec(w[0], w[1], 32u, out);
}

l4mm_status l4mm_l4re_tag_encode_32(const struct l4mm_msgtag *t, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (t == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_l4re_tag_enc(t, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_l4re_tag_decode_32(uint32_t w, struct l4mm_msgtag *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_l4re_tag_dec(w, 32u, out);
}
