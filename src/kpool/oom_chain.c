/*
 * oom_chain.c - a ready-made OOM policy: an ordered list of optional steps.
 *
 *   pool can't serve ──▶ oom hook(attempt k)
 *                          │ for each step that applies to the class, in order:
 *                          │   FALLBACK: reclaim from the fallback pool (pages above its low),
 *                          │             then allocate from it with fallback_class,
 *                          │             up to fallback_batch pages, each given to the pool
 *                          │   RECLAIM:  callback (shrink caches; gives pages)
 *                          │   KILL:     callback (kill a task; gives its pages)
 *                          │ stop at the first step after which the pool has gained pages
 *                          ▼
 *                        RETRY if the pool gained pages, else FAIL (never panic)
 *
 * The pool calls the hook again (attempt k + 1) when the pages were not enough, so the chain
 * restarts from its first step each time: cheap sources are drained before a kill.
 */
#include "kpool/kpool_internal.h"

#define OOM_CHAIN_MAGIC ((uintptr_t)0x6f6f6d63u) /* "oomc" */
#define OOM_CLASS_MASK  7u

static uintptr_t chain_magic(const struct l4mm_oom_chain *ch)
{
    return OOM_CHAIN_MAGIC ^ (uintptr_t)ch;
}

l4mm_status l4mm_oom_chain_init(struct l4mm_oom_chain *ch, const struct l4mm_oom_chain_config *cfg)
{
    if (ch == NULL || cfg == NULL || cfg->pool == NULL || cfg->nsteps > L4MM_OOM_CHAIN_MAX_STEPS)
        return L4MM_EINVAL;
    for (size_t i = 0; i < cfg->nsteps; i++) {
        const struct l4mm_oom_step *s = &cfg->steps[i];
        if ((s->classes & ~OOM_CLASS_MASK) != 0)
            return L4MM_EINVAL;
        switch (s->kind) {
        case L4MM_OOM_STEP_FALLBACK:
            if (cfg->fallback == NULL || cfg->fallback == cfg->pool ||
                cfg->fallback->page_size != cfg->pool->page_size || cfg->fallback_batch == 0 ||
                (unsigned)cfg->fallback_class > (unsigned)L4MM_KP_DEFERRABLE)
                return L4MM_EINVAL;
            break;
        case L4MM_OOM_STEP_RECLAIM:
            if (cfg->reclaim == NULL)
                return L4MM_EINVAL;
            break;
        case L4MM_OOM_STEP_KILL:
            if (cfg->kill == NULL)
                return L4MM_EINVAL;
            break;
        default: return L4MM_EINVAL;
        }
    }
    /* Field by field: a struct copy would make some compilers call memcpy. */
    struct l4mm_oom_chain_config *d = &ch->cfg;
    d->pool = cfg->pool;
    for (size_t i = 0; i < L4MM_OOM_CHAIN_MAX_STEPS; i++) {
        d->steps[i].kind = i < cfg->nsteps ? cfg->steps[i].kind : L4MM_OOM_STEP_FALLBACK;
        d->steps[i].classes = i < cfg->nsteps ? cfg->steps[i].classes : 0;
    }
    d->nsteps = cfg->nsteps;
    d->fallback = cfg->fallback;
    d->fallback_class = cfg->fallback_class;
    d->fallback_batch = cfg->fallback_batch;
    d->reclaim = cfg->reclaim;
    d->reclaim_ctx = cfg->reclaim_ctx;
    d->kill = cfg->kill;
    d->kill_ctx = cfg->kill_ctx;
    ch->calls = ch->fallback_pages = ch->reclaim_calls = ch->kill_calls = ch->fails = 0;
    ch->magic = chain_magic(ch);
    return L4MM_OK;
}

/* Moves up to fallback_batch pages from the fallback pool into the pool. */
static void chain_fallback(struct l4mm_oom_chain *ch)
{
    struct l4mm_kpool *to = ch->cfg.pool, *from = ch->cfg.fallback;
    for (size_t i = 0; i < ch->cfg.fallback_batch; i++) {
        void *page;
        if (l4mm_kpool_reclaim(from, &page) != L4MM_OK &&
            l4mm_kpool_alloc(from, ch->cfg.fallback_class, &page) != L4MM_OK)
            return;
        if (l4mm_kpool_give(to, page) != L4MM_OK) {
            /* Cannot happen for a page the fallback pool held; keep it there. */
            (void)l4mm_kpool_give(from, page);
            return;
        }
        ch->fallback_pages++;
    }
}

enum l4mm_oom_action l4mm_oom_chain_hook(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    struct l4mm_oom_chain *ch = ctx;
    if (ch == NULL || ch->magic != chain_magic(ch) || (unsigned)cls > (unsigned)L4MM_KP_DEFERRABLE)
        return L4MM_OOM_FAIL;
    ch->calls++;
    struct l4mm_kpool *pool = ch->cfg.pool;
    size_t before = pool->n;
    for (size_t i = 0; i < ch->cfg.nsteps && pool->n == before; i++) {
        const struct l4mm_oom_step *s = &ch->cfg.steps[i];
        if (s->classes != 0 && (s->classes & (1u << (unsigned)cls)) == 0)
            continue;
        switch (s->kind) {
        case L4MM_OOM_STEP_FALLBACK: chain_fallback(ch); break;
        case L4MM_OOM_STEP_RECLAIM:
            ch->reclaim_calls++;
            ch->cfg.reclaim(ch->cfg.reclaim_ctx, pool, cls, attempt);
            break;
        case L4MM_OOM_STEP_KILL:
            ch->kill_calls++;
            ch->cfg.kill(ch->cfg.kill_ctx, pool, cls, attempt);
            break;
        default: break;
        }
    }
    if (pool->n > before)
        return L4MM_OOM_RETRY;
    ch->fails++;
    return L4MM_OOM_FAIL;
}

void l4mm_oom_chain_stats(const struct l4mm_oom_chain *ch, struct l4mm_oom_chain_stats *out)
{
    if (ch == NULL || out == NULL)
        return;
    out->calls = ch->calls;
    out->fallback_pages = ch->fallback_pages;
    out->reclaim_calls = ch->reclaim_calls;
    out->kill_calls = ch->kill_calls;
    out->fails = ch->fails;
}
