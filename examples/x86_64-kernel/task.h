/*
 * task.h - threads/address spaces (one thread per task) and the memory-management glue.
 */
#ifndef KX_TASK_H
#define KX_TASK_H

#include <l4mm/buddy.h>
#include <l4mm/ipcmsg.h>
#include <l4mm/kpool.h>
#include <l4mm/mapdb.h>

#include "kernel.h"

enum tstate { T_FREE, T_READY, T_RECV, T_SEND, T_FAULT_SEND, T_FAULT_WAIT, T_DEAD };

#define MAX_PTS         80u /* the hog: 128 MiB = 64 page tables, plus a few */
#define MAX_BOOT_FRAMES 96u

/* One page table of a space and its shadow: the mapdb handle behind each PTE, so the kernel
 * finds the mapping of (space, vaddr) in O(1), as kernels do. */
struct ptslot {
    uint64_t va2m;         /* 2 MiB-aligned base */
    uint64_t *pt;          /* the page table (kernel virtual) */
    l4mm_mapping **shadow; /* 512 handles */
};

struct thread {
    unsigned tid, prio;
    enum tstate state;
    unsigned send_to, recv_from, recv_after;
    struct regs ctx;
    bool ctx_sys; /* ctx came from syscall: leave by sysret */
    const char *name;
    uint64_t *pml4; /* kernel virtual */
    struct utcb *utcb;
    uint64_t fault_addr, fault_ip, last_fault;
    unsigned fault_access, fault_repeat;
    struct ptslot pts[MAX_PTS];
    unsigned npts;
    uint64_t boot_frames[MAX_BOOT_FRAMES]; /* image, stack, UTCB: kernel's frames */
    unsigned nboot_frames;
    unsigned long mapped; /* pages mapped through the mapping database */
};

extern struct thread threads[NTHREADS];
extern struct thread *cur;
extern struct l4mm_kpool kpool;
extern struct l4mm_kcache nodecache;
extern struct l4mm_mapdb mapdb;
extern struct l4mm_buddy dmapool;
extern struct l4mm_msgq kq;

/* The kernel's asynchronous messages to sigma0 (the msgq element). */
struct kmsg {
    uint64_t mr[16];
};

/* vm.c */
void *kpage_alloc(enum l4mm_kpool_class cls);
int vm_create(struct thread *t);
int vm_ensure(struct thread *t, uint64_t va);
uint64_t *vm_pte(struct thread *t, uint64_t va, l4mm_mapping ***shadow);
void vm_set(struct thread *t, uint64_t va, uint64_t pa, unsigned rights, l4mm_mapping *h);
unsigned vm_teardown(struct thread *t, bool give);

/* mm.c */
void mm_init(void);
bool mm_add_root(uint64_t paddr, unsigned order, l4mm_mapping *m);
extern bool verbose_va(uint64_t va);
l4mm_status mm_item(struct thread *src, struct thread *dst, const struct l4mm_map_item *it,
                    bool verbose);
void mm_refill_reply(const uint64_t *mr, size_t n_mr);
void mm_oom_user(struct thread *t);
void mm_unmap(struct thread *t, uint64_t fpage_word, unsigned flags);
void mm_pump(void);
void mm_final(unsigned sigma0_status);
void mm_idle(void);
void mm_dma_init(uint64_t base, uint64_t size);
void mm_msgq_demo(void);
extern unsigned long stat_faults, stat_refills, stat_refill_pages, stat_refill_failed;

/* shared by mm.c and oom.c */
extern bool mm_changed_verbose, mm_in_hook;
extern void *mm_deferred_nodes;
extern uint64_t mm_spares[];
extern unsigned mm_nspares;
struct l4mm_kpool_stats mm_pool_stats(void);
size_t mm_pool_n(void);
uint64_t mm_tag(int64_t label, unsigned u, unsigned t);
enum l4mm_oom_action mm_on_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt);
void mm_flush_deferred(void);
void mm_release_task(struct thread *t, bool in_kpool_hook);

/* ipc.c */
void sched(void) __attribute__((noreturn));
void kill_thread(struct thread *t, const char *why);
void deliver_kernel_msgs(void);

#endif /* KX_TASK_H */
