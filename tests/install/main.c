/*
 * A consumer of an installed l4mm. It calls real functions of every module whose header was
 * installed and checks their results; exit status 0 only if everything behaved.
 */
#include <stdio.h>
#include <string.h>

#include <l4mm/status.h>
#include <l4mm/types.h>
#include <l4mm/version.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "consumer: check failed: %s (line %d)\n", #c, __LINE__);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#if __has_include(<l4mm/buddy.h>)
#include <l4mm/buddy.h>
static unsigned long long buddy_meta[8192];
static int try_buddy(void)
{
    struct l4mm_buddy b;
    l4mm_addr_t a = 0;
    size_t need = l4mm_buddy_meta_size(0x100000, 0x100000, 12, 8);
    CHECK(need > 0 && need <= sizeof buddy_meta);
    CHECK(l4mm_buddy_init(&b, buddy_meta, sizeof buddy_meta, 0x100000, 0x100000, 12, 8) == L4MM_OK);
    CHECK(l4mm_buddy_add(&b, 0x100000, 0x100000) == L4MM_OK);
    CHECK(l4mm_buddy_alloc(&b, 2, &a) == L4MM_OK);
    CHECK(a >= 0x100000 && a < 0x200000 && (a & 0x3fff) == 0);
    CHECK(l4mm_buddy_free(&b, a, 2) == L4MM_OK);
    CHECK(l4mm_buddy_free(&b, a, 2) == L4MM_ENOENT);
    CHECK(l4mm_buddy_check(&b) == L4MM_OK);
    printf("consumer: buddy ok\n");
    return 0;
}
#endif

#if __has_include(<l4mm/ipcmsg.h>)
#include <l4mm/ipcmsg.h>
static int try_ipcmsg(void)
{
    struct l4mm_msgq q;
    unsigned long long storage[4];
    unsigned long long in = 0x1234, out = 0;
    struct l4mm_fpage f, g;
    uint64_t w = 0;

    CHECK(l4mm_msgq_init(&q, storage, sizeof storage, sizeof in) == L4MM_OK);
    CHECK(l4mm_msgq_pop(&q, &out) == L4MM_ENOENT);
    CHECK(l4mm_msgq_push(&q, &in) == L4MM_OK);
    CHECK(l4mm_msgq_pop(&q, &out) == L4MM_OK && out == in);

    memset(&f, 0, sizeof f);
    f.kind = L4MM_FPAGE_MEM;
    f.base = 0x200000;
    f.order = 21;
    f.rights = L4MM_R | L4MM_W;
    CHECK(l4mm_x2_fpage_encode(&f, &w) == L4MM_OK);
    CHECK(l4mm_x2_fpage_decode(w, &g) == L4MM_OK);
    CHECK(g.base == f.base && g.order == f.order && g.rights == f.rights);
    printf("consumer: ipcmsg ok\n");
    return 0;
}
#endif

#if __has_include(<l4mm/kpool.h>)
#include <l4mm/kpool.h>
static _Alignas(4096) unsigned char kp_pages[4][4096];
static int try_kpool(void)
{
    struct l4mm_kpool p;
    struct l4mm_kpool_config cfg;
    struct l4mm_kpool_ops ops;
    struct l4mm_kpool_stats st;
    void *page = NULL;

    memset(&cfg, 0, sizeof cfg);
    memset(&ops, 0, sizeof ops);
    cfg.page_size = 4096;
    cfg.reserve = 1;
    cfg.low = 1;
    cfg.high = 8;
    CHECK(l4mm_kpool_init(&p, &cfg, &ops) == L4MM_OK);
    for (int i = 0; i < 4; i++)
        CHECK(l4mm_kpool_give(&p, kp_pages[i]) == L4MM_OK);
    CHECK(l4mm_kpool_give(&p, kp_pages[0] + 1) == L4MM_EINVAL);
    CHECK(l4mm_kpool_alloc(&p, L4MM_KP_NORMAL, &page) == L4MM_OK && page != NULL);
    l4mm_kpool_stats(&p, &st);
    CHECK(st.pages == 3);
    CHECK(l4mm_kpool_free(&p, page) == L4MM_OK);
    CHECK(l4mm_kpool_check(&p) == L4MM_OK);
    printf("consumer: kpool ok\n");
    return 0;
}
#endif

#if __has_include(<l4mm/mapdb.h>)
#include <l4mm/mapdb.h>
static _Alignas(8) unsigned char md_nodes[16][L4MM_MAPDB_NODE_SIZE];
static unsigned md_used;
static void *md_alloc(void *ctx)
{
    (void)ctx;
    return md_used < 16 ? md_nodes[md_used++] : NULL;
}
static void md_free(void *ctx, void *node)
{
    (void)ctx;
    (void)node;
}
static unsigned md_changes;
static void md_changed(void *ctx, l4mm_space_id space, l4mm_addr_t vaddr, unsigned order,
                       unsigned old_rights, unsigned new_rights)
{
    (void)ctx;
    (void)space;
    (void)vaddr;
    (void)order;
    (void)old_rights;
    (void)new_rights;
    md_changes++;
}
static int try_mapdb(void)
{
    struct l4mm_mapdb db;
    struct l4mm_mapdb_ops ops;
    struct l4mm_mapping_info info;
    l4mm_mapping *root = NULL, *child = NULL;

    memset(&ops, 0, sizeof ops);
    ops.node_alloc = md_alloc;
    ops.node_free = md_free;
    ops.changed = md_changed;
    CHECK(l4mm_mapdb_init(&db, &ops) == L4MM_OK);
    CHECK(l4mm_mapdb_root(&db, 1, 0x400000, 0x400000, 21, L4MM_RWX, &root) == L4MM_OK);
    CHECK(l4mm_mapdb_map(&db, root, 0x1000, 12, 2, 0x7000, L4MM_R | L4MM_W, &child) == L4MM_OK);
    l4mm_mapdb_info(child, &info);
    CHECK(info.space == 2 && info.paddr == 0x401000 && info.rights == (L4MM_R | L4MM_W) &&
          info.depth == 1);
    CHECK(l4mm_mapdb_unmap(&db, root, L4MM_W, 0) == L4MM_OK);
    CHECK(md_changes == 1);
    CHECK(l4mm_mapdb_check(&db) == L4MM_OK);
    printf("consumer: mapdb ok\n");
    return 0;
}
#endif

int main(void)
{
    const char *s = l4mm_strerror(L4MM_ENOMEM);
    CHECK(s != NULL && strcmp(s, l4mm_strerror(L4MM_OK)) != 0);
    CHECK(strcmp(l4mm_strerror((l4mm_status)1000), "unknown status") == 0);
    printf("consumer: l4mm %s, strerror(ENOMEM) = \"%s\"\n", L4MM_VERSION_STRING, s);
#if __has_include(<l4mm/buddy.h>)
    CHECK(try_buddy() == 0);
#endif
#if __has_include(<l4mm/ipcmsg.h>)
    CHECK(try_ipcmsg() == 0);
#endif
#if __has_include(<l4mm/kpool.h>)
    CHECK(try_kpool() == 0);
#endif
#if __has_include(<l4mm/mapdb.h>)
    CHECK(try_mapdb() == 0);
#endif
    printf("consumer: all good\n");
    return 0;
}
