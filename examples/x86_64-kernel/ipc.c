/*
 * ipc.c - threads, the IPC system call, page faults as IPC to the pager, and the
 * scheduler. One kernel stack: every entry saves the user context in the thread and leaves
 * through sched(), which resumes the highest-priority ready thread. Nothing here blocks.
 */
#include "task.h"

struct thread threads[NTHREADS];
struct thread *cur;

static struct l4mm_msg pmsg; /* parse buffer (one CPU, no preemption in the kernel) */
static uint64_t kbuf[UTCB_MRS];

static struct thread *thread_of(unsigned tid)
{
    if (tid >= NTHREADS || tid == TID_KERNEL || tid == TID_NIL)
        return NULL;
    return threads[tid].state == T_FREE ? NULL : &threads[tid];
}

void kill_thread(struct thread *t, const char *why)
{
    kprintf("[kernel] task %s killed: %s\n", t->name, why);
    t->state = T_DEAD;
}

static void set_result(struct thread *t, uint64_t rax, uint64_t rsi)
{
    t->ctx.rax = rax;
    t->ctx.rsi = rsi;
}

/* Write a page-fault message (X.2: label -2<<4 | rwx, MR1 address, MR2 ip) to the pager. */
static void deliver_fault(struct thread *f, struct thread *pager)
{
    struct l4mm_msgtag tag = { LBL_FAULT | (int64_t)f->fault_access, 2, 0, 0 };
    uint64_t w = 0;
    if (l4mm_x2_tag_encode(&tag, &w) != L4MM_OK)
        panic("fault tag encode");
    pager->utcb->mr[0] = w;
    pager->utcb->mr[1] = f->fault_addr;
    pager->utcb->mr[2] = f->fault_ip;
    set_result(pager, 0, f->tid);
    pager->state = T_READY;
    f->state = T_FAULT_WAIT;
    f->recv_from = pager->tid;
}

/* The kernel's asynchronous messages wait in the bounded msgq until sigma0 receives. */
void deliver_kernel_msgs(void)
{
    struct thread *s0 = &threads[TID_SIGMA0];
    struct kmsg m;
    unsigned i;
    if (s0->state != T_RECV || s0->recv_from != TID_ANY)
        return;
    if (l4mm_msgq_pop(&kq, &m) != L4MM_OK)
        return;
    for (i = 0; i < 16; i++)
        s0->utcb->mr[i] = m.mr[i];
    set_result(s0, 0, TID_KERNEL);
    s0->state = T_READY;
}

static bool msg_items(struct thread *s, struct thread *d, bool verbose)
{
    unsigned i;
    bool nil = pmsg.n_items == 0;
    for (i = 0; i < pmsg.n_items; i++) {
        if (pmsg.items[i].fpage.nil) {
            nil = true;
            continue;
        }
        mm_item(s, d, &pmsg.items[i], verbose);
    }
    return nil;
}

/* s sends its UTCB message to d, which is ready to receive it. Returns 0, or an error for s
 * (nothing delivered). */
static uint64_t transfer(struct thread *s, struct thread *d)
{
    unsigned i, n;
    l4mm_status st;
    for (i = 0; i < UTCB_MRS; i++)
        kbuf[i] = s->utcb->mr[i];
    st = l4mm_x2_msg_parse(kbuf, UTCB_MRS, &pmsg);
    if (st != L4MM_OK) {
        kprintf("[ipc] %s -> %s: malformed message refused (%s)\n", s->name, d->name,
                l4mm_strerror(st));
        return st;
    }
    if (d->state == T_FAULT_WAIT) {
        bool verbose = verbose_va(d->fault_addr);
        bool nil = msg_items(s, d, verbose);
        uint64_t *pte = vm_pte(d, d->fault_addr, NULL);
        if (pte && (*pte & 1u)) {
            d->state = T_READY; /* retries the faulting instruction */
        } else if (nil) {
            mm_oom_user(d);
        } else {
            d->state = T_READY; /* not mapped: it faults again (and is killed if it loops) */
        }
        return 0;
    }
    n = 1u + pmsg.tag.untyped + pmsg.tag.typed;
    for (i = 0; i < n && i < UTCB_MRS; i++)
        d->utcb->mr[i] = kbuf[i];
    msg_items(s, d, true);
    set_result(d, 0, s->tid);
    d->state = T_READY;
    return 0;
}

/* After s's send completed (or had none): its receive phase. */
static void receive_phase(struct thread *t, unsigned from)
{
    unsigned i;
    if (from == TID_NIL) {
        t->state = T_READY;
        return;
    }
    t->state = T_RECV;
    t->recv_from = from;
    if (t->tid == TID_SIGMA0 && from == TID_ANY) {
        deliver_kernel_msgs();
        if (t->state == T_READY)
            return;
    }
    for (i = 0; i < NTHREADS; i++) {
        struct thread *s = &threads[i];
        if (from != TID_ANY && from != s->tid)
            continue;
        if (s->state == T_FAULT_SEND && s->send_to == t->tid) {
            deliver_fault(s, t);
            return;
        }
        if (s->state == T_SEND && s->send_to == t->tid) {
            uint64_t e = transfer(s, t);
            set_result(s, e, 0);
            if (e) { /* refused: the sender learns why, the receiver keeps waiting */
                s->state = T_READY;
                continue;
            }
            receive_phase(s, s->recv_after);
            return;
        }
    }
}

static void sys_ipc(struct thread *t, unsigned to, unsigned from)
{
    set_result(t, 0, 0);
    if (to == TID_KERNEL) {
        uint64_t i;
        l4mm_status st;
        if (t->tid != TID_SIGMA0) {
            set_result(t, L4MM_EPERM, 0);
            t->state = T_READY;
            return;
        }
        for (i = 0; i < UTCB_MRS; i++)
            kbuf[i] = t->utcb->mr[i];
        st = l4mm_x2_msg_parse(kbuf, UTCB_MRS, &pmsg);
        if (st != L4MM_OK) {
            kprintf("[ipc] sigma0 -> kernel: malformed message refused (%s)\n", l4mm_strerror(st));
            set_result(t, st, 0);
            t->state = T_READY;
            return;
        }
        if (pmsg.tag.label == LBL_CHECKED)
            mm_final((unsigned)kbuf[1]);
        else
            mm_refill_reply(kbuf, UTCB_MRS);
    } else if (to != TID_NIL) {
        struct thread *d = thread_of(to);
        if (!d || d == t || d->state == T_DEAD) {
            set_result(t, L4MM_ENOENT, 0);
            t->state = T_READY;
            return;
        }
        if ((d->state == T_RECV && (d->recv_from == TID_ANY || d->recv_from == t->tid)) ||
            (d->state == T_FAULT_WAIT && d->recv_from == t->tid)) {
            uint64_t e = transfer(t, d);
            if (e) {
                set_result(t, e, 0);
                t->state = T_READY;
                return;
            }
        } else {
            t->state = T_SEND;
            t->send_to = to;
            t->recv_after = from;
            return;
        }
    }
    receive_phase(t, from);
}

static void user_fault(struct thread *t, struct regs *r)
{
    uint64_t addr = read_cr2();
    unsigned acc = (r->error & 2u) ? L4MM_W : (r->error & 16u) ? L4MM_X : L4MM_R;
    struct thread *pager = &threads[TID_SIGMA0];
    stat_faults++;
    if (addr >= U_LIMIT || (addr >= U_IMAGE && addr < U_BOOT_END) || t == pager) {
        kprintf("[kernel] %s: page fault at 0x%lx (ip 0x%lx) cannot be paged\n", t->name, addr,
                r->rip);
        kill_thread(t, "unpageable fault");
        return;
    }
    if ((addr & ~0xfffull) == t->last_fault) {
        if (++t->fault_repeat > 3) {
            kill_thread(t, "the same fault keeps recurring");
            return;
        }
    } else {
        t->fault_repeat = 0;
    }
    t->last_fault = addr & ~0xfffull;
    t->fault_addr = addr;
    t->fault_ip = r->rip;
    t->fault_access = acc;
    if (verbose_va(addr))
        kprintf("[fault] %s: %s access at 0x%lx (ip 0x%lx) -> fault IPC to sigma0\n", t->name,
                rights_str(acc), addr, r->rip);
    t->state = T_FAULT_SEND;
    t->send_to = TID_SIGMA0;
    if (pager->state == T_RECV && (pager->recv_from == TID_ANY || pager->recv_from == t->tid))
        deliver_fault(t, pager);
}

static void syscall(struct thread *t, struct regs *r)
{
    switch (r->rax) {
    case SYS_IPC: sys_ipc(t, (unsigned)r->rdi, (unsigned)r->rsi); break;
    case SYS_PRINT: {
        uint64_t n = r->rdi < UTCB_TEXT ? r->rdi : UTCB_TEXT, i;
        for (i = 0; i < n; i++)
            kputc(t->utcb->text[i]);
        set_result(t, 0, r->rsi);
        break;
    }
    case SYS_UNMAP: mm_unmap(t, r->rdi, (unsigned)r->rsi); break;
    case SYS_FRAME_USED: {
        /* sigma0 frees a dead task's frames only if no other space still maps them (a
         * grant may have moved a frame to a live task) */
        unsigned sp, used = 0;
        l4mm_mapping *m;
        if (t->tid != TID_SIGMA0) {
            set_result(t, L4MM_EPERM, r->rsi);
            break;
        }
        for (sp = 0; sp < NTHREADS; sp++)
            if (sp != TID_SIGMA0 && l4mm_mapdb_find(&mapdb, r->rdi, sp, &m) == L4MM_OK)
                used = 1;
        set_result(t, used, r->rsi);
        break;
    }
    case SYS_EXIT:
        kprintf("[kernel] task %s exited\n", t->name);
        t->state = T_DEAD;
        break;
    default: set_result(t, L4MM_EINVAL, r->rsi); break;
    }
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
    "#NP", "#SS", "#GP", "#PF", "r15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void kx_entry(struct regs *r);
void kx_entry(struct regs *r)
{
    if ((r->cs & 3u) == 0) {
        kprintf("\n[kernel] exception %lu (%s) in the kernel: rip 0x%lx err 0x%lx cr2 0x%lx\n",
                r->vector, r->vector < 32 && exc_names[r->vector] ? exc_names[r->vector] : "?",
                r->rip, r->error, read_cr2());
        panic("exception in kernel mode");
    }
    if (!cur)
        panic("user entry without a current thread");
    cur->ctx = *r;
    cur->ctx_sys = r->vector == 0x100;
    if (r->vector == 0x100) {
        syscall(cur, &cur->ctx);
    } else if (r->vector == 14) {
        user_fault(cur, &cur->ctx);
    } else {
        kprintf("[kernel] %s: exception %lu (%s) at ip 0x%lx\n", cur->name, r->vector,
                r->vector < 32 && exc_names[r->vector] ? exc_names[r->vector] : "?", r->rip);
        kill_thread(cur, "exception");
    }
    sched();
}

void sched(void)
{
    for (;;) {
        struct thread *best = NULL;
        unsigned i;
        mm_pump();
        deliver_kernel_msgs();
        for (i = 0; i < NTHREADS; i++) {
            struct thread *t = &threads[i];
            if (t->state == T_READY && (!best || t->prio < best->prio))
                best = t;
        }
        if (best) {
            cur = best;
            if (V2P(best->pml4) != read_cr3())
                write_cr3(V2P(best->pml4));
            if (best->ctx_sys)
                kx_resume_sysret(&best->ctx);
            kx_resume_iret(&best->ctx);
        }
        mm_idle(); /* nothing runnable: final checks, or a deadlock (fails) */
    }
}
