/*
 * fuzz_ipcmsg_util.h - what the two ipcmsg round-trip harnesses (fuzz_ipcmsg_x2.c,
 * fuzz_ipcmsg_l4re.c) share: field-wise equality of decoded fpages and items, and abort on a
 * violated expectation.
 */
#ifndef L4MM_FUZZ_IPCMSG_UTIL_H
#define L4MM_FUZZ_IPCMSG_UTIL_H

#include <stdbool.h>
#include <stdlib.h>

#include <l4mm/ipcmsg.h>

static bool fpage_eq(const struct l4mm_fpage *a, const struct l4mm_fpage *b)
{
    return a->kind == b->kind && a->base == b->base && a->order == b->order &&
           a->rights == b->rights && a->nil == b->nil && a->complete == b->complete;
}

static bool item_eq(const struct l4mm_map_item *a, const struct l4mm_map_item *b)
{
    return fpage_eq(&a->fpage, &b->fpage) && a->snd_base == b->snd_base && a->grant == b->grant &&
           a->more == b->more && a->attr == b->attr;
}

static void must(bool c)
{
    if (!c)
        abort();
}

#endif
