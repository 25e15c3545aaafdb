/**
 * @file l4mm.h
 * @brief Umbrella header: includes every l4mm module header.
 *
 * Each module header also stands alone; include only what you use if you prefer.
 */
#ifndef L4MM_L4MM_H
#define L4MM_L4MM_H

#include <l4mm/types.h>
#include <l4mm/status.h>
#include <l4mm/version.h>
#include <l4mm/buddy.h>
#include <l4mm/mapdb.h>
#include <l4mm/kpool.h>
#include <l4mm/ipcmsg.h>

#endif /* L4MM_L4MM_H */
