/*
 * test_ipcmsg_util.h - field-by-field comparisons and fpage constructors shared by the
 * ipcmsg tests.
 */
#ifndef L4MM_TEST_IPCMSG_UTIL_H
#define L4MM_TEST_IPCMSG_UTIL_H

#include <l4mm/ipcmsg.h>

static inline bool fpage_eq(const struct l4mm_fpage *a, const struct l4mm_fpage *b)
{
    return a->kind == b->kind && a->base == b->base && a->order == b->order &&
           a->rights == b->rights && a->nil == b->nil && a->complete == b->complete;
}

static inline bool item_eq(const struct l4mm_map_item *a, const struct l4mm_map_item *b)
{
    return fpage_eq(&a->fpage, &b->fpage) && a->snd_base == b->snd_base && a->grant == b->grant &&
           a->more == b->more && a->attr == b->attr;
}

/* A plain (not nil, not complete) fpage of any kind. */
static inline struct l4mm_fpage fp(enum l4mm_fpage_kind k, l4mm_addr_t base, unsigned order,
                                   unsigned rights)
{
    struct l4mm_fpage f = { k, base, order, rights, false, false };
    return f;
}

static inline struct l4mm_fpage mem(l4mm_addr_t base, unsigned order, unsigned rights)
{
    return fp(L4MM_FPAGE_MEM, base, order, rights);
}

static inline struct l4mm_fpage io(l4mm_addr_t port, unsigned order, unsigned rights)
{
    return fp(L4MM_FPAGE_IO, port, order, rights);
}

#endif /* L4MM_TEST_IPCMSG_UTIL_H */
