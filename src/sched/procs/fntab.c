/* procs/fntab.c - how a worker process finds the task functions of the
 * program that started it.
 *
 * A worker is a fresh copy of the program, but libweft's constructor turns
 * it into a worker before the program's own constructors have run, so the
 * worker's registry lacks the program's WEFT_REGISTER functions. Instead
 * the pool sends each worker a table: for every function, its name, the
 * module (executable or shared library) holding its weft_fn_info, and the
 * info's offset from that module's load bias, found with dladdr1(). The
 * worker finds the same module with dl_iterate_phdr() (the program is the
 * one named ""), checks that the address lies inside one of the module's
 * loaded segments and that the info there carries the expected name (else
 * the worker runs another build than the pool: a clear error, not a jump
 * into garbage), and registers it, so weft_fn_find() works in tasks too.
 * ASLR does not matter: offsets are taken from each process's own bias.
 *
 * Tasks then name their function by its index in this table. The parent
 * keeps the table in the pool (a pointer-keyed hash gives an info's index),
 * adds functions registered since, and sends each worker the entries it
 * has not seen. A function that is not registered is refused, as weft_map
 * refuses it: one rule for graphs and maps. */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "impl.h"

/* ---- parent side ---- */

static size_t hash_ptr(const void *p) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x;
}

static uint32_t lookup(const weft__fntab *t, const weft_fn_info *fn) {
  if (!t->nslots)
    return UINT32_MAX;
  for (size_t h = hash_ptr(fn) & (t->nslots - 1);;
       h = (h + 1) & (t->nslots - 1)) {
    uint32_t s = t->slots[h];
    if (!s)
      return UINT32_MAX;
    if (t->ents[s - 1].info == fn)
      return s - 1;
  }
}

static int rehash(weft__fntab *t, size_t nslots) {
  uint32_t *slots = calloc(nslots, sizeof *slots);
  if (!slots)
    return WEFT_ENOMEM;
  for (uint32_t i = 0; i < t->n; i++) {
    size_t h = hash_ptr(t->ents[i].info) & (nslots - 1);
    while (slots[h])
      h = (h + 1) & (nslots - 1);
    slots[h] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = nslots;
  return 0;
}

static int add(weft__fntab *t, const weft_fn_info *fn, bool registered,
               uint32_t *idx) {
  if (t->n == t->cap) {
    uint32_t cap = t->cap ? 2 * t->cap : 32;
    weft__fnent *p = realloc(t->ents, cap * sizeof *p);
    if (!p)
      return WEFT_ENOMEM;
    t->ents = p;
    t->cap = cap;
  }
  if ((size_t)(t->n + 1) * 2 > t->nslots &&
      rehash(t, t->nslots ? 2 * t->nslots : 64))
    return WEFT_ENOMEM;
  weft__fnent *e = &t->ents[t->n];
  e->info = fn;
  e->module = NULL;
  e->offset = 0;
  e->registered = registered;
  Dl_info di;
  struct link_map *lm = NULL;
  if (dladdr1(fn, &di, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
    e->module = strdup(lm->l_name ? lm->l_name : "");
    if (!e->module)
      return WEFT_ENOMEM;
    e->offset = (uint64_t)((uintptr_t)fn - (uintptr_t)lm->l_addr);
  }
  size_t h = hash_ptr(fn) & (t->nslots - 1);
  while (t->slots[h])
    h = (h + 1) & (t->nslots - 1);
  t->slots[h] = t->n + 1;
  *idx = t->n++;
  return 0;
}

typedef struct sync_ctx {
  weft__fntab *t;
  int rc;
} sync_ctx;

static void sync_one(const weft_fn_info *info, void *ud) {
  sync_ctx *s = ud;
  uint32_t idx;
  if (!s->rc && lookup(s->t, info) == UINT32_MAX)
    s->rc = add(s->t, info, true, &idx);
}

int weft__fntab_sync(weft__fntab *t) {
  sync_ctx s = {t, 0};
  weft_fn_foreach(sync_one, &s);
  return s.rc;
}

int weft__fntab_index(weft__fntab *t, const weft_fn_info *fn, uint32_t *idx,
                      char *msg, size_t msgsize) {
  uint32_t i = lookup(t, fn);
  if (i != UINT32_MAX) {
    *idx = i;
    return 0;
  }
  /* Registered since the pool last synced its table, or not at all: the
   * same rule as weft_map's, so that a function runs in worker processes
   * through a graph exactly when it does through a map. */
  int rc = weft__fn_check_registered(fn, msg, msgsize);
  return rc ? rc : add(t, fn, true, idx);
}

int weft__fntab_put_defs(const weft__fntab *t, uint32_t first, weft__conn *c) {
  weft_buf *b = &c->out;
  size_t mark;
  int rc = weft_wire_frame_begin(b, WEFT__PK_FNDEFS, &mark);
  if (rc)
    return rc;
  rc = weft__pput_varint(b, first);
  if (!rc)
    rc = weft__pput_varint(b, t->n - first);
  for (uint32_t i = first; !rc && i < t->n; i++) {
    const weft__fnent *e = &t->ents[i];
    const char *mod = e->module ? e->module : "";
    uint8_t flags = (uint8_t)((e->registered ? 1 : 0) | (e->module ? 0 : 2));
    /* the parameters with defaults (WEFT_DEFAULTS), which the worker's
     * registry cannot know: its copy of the program ran no constructor */
    int nd = e->info->arity >= 0 ? e->info->arity - weft_fn_min_arity(e->info)
                                 : 0;
    if (!(rc = weft__pput_bytes(b, e->info->name, strlen(e->info->name))) &&
        !(rc = weft__pput_bytes(b, mod, strlen(mod))) &&
        !(rc = weft__pput_u64(b, e->offset)) &&
        !(rc = weft__pput_u8(b, flags)))
      rc = weft__pput_varint(b, (uint64_t)nd);
  }
  if (!rc)
    rc = weft_wire_frame_end(b, mark);
  if (rc)
    b->len = mark;
  return rc;
}

void weft__fntab_free(weft__fntab *t) {
  for (uint32_t i = 0; i < t->n; i++)
    free(t->ents[i].module);
  free(t->ents);
  free(t->slots);
  memset(t, 0, sizeof *t);
}

/* ---- worker side ---- */

typedef struct find_mod {
  const char *name;
  uintptr_t addr; /* the address wanted (computed once found) */
  uint64_t offset;
  size_t need; /* bytes that must be readable at addr */
  int found;   /* 1: module found, 2: and addr inside a segment */
  size_t room; /* readable bytes from addr to its segment's end */
} find_mod;

static int find_module_cb(struct dl_phdr_info *info, size_t size, void *ud) {
  (void)size;
  find_mod *f = ud;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  if (strcmp(name, f->name) != 0)
    return 0;
  f->found = 1;
  f->addr = (uintptr_t)info->dlpi_addr + (uintptr_t)f->offset;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
    uintptr_t hi = lo + ph->p_memsz;
    if (f->addr >= lo && f->addr < hi && hi - f->addr >= f->need) {
      f->found = 2;
      f->room = hi - f->addr;
    }
  }
  return 1; /* the first module of that name: the program comes first */
}

/* Any module's loaded segment holding p: bytes readable from p, or 0. */
static int room_cb(struct dl_phdr_info *info, size_t size, void *ud) {
  (void)size;
  find_mod *f = ud;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD)
      continue;
    uintptr_t lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
    uintptr_t hi = lo + ph->p_memsz;
    if (f->addr >= lo && f->addr < hi) {
      f->room = hi - f->addr;
      return 1;
    }
  }
  return 0;
}

/* Copies n bytes that are known to be mapped but not known to be an
 * object: after another build's offset they may be padding between
 * globals, which a sanitizer would report. Byte by byte through volatile,
 * so that no intercepted memcpy is called either. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 8
#define WEFT__NO_SANITIZE
#else
#define WEFT__NO_SANITIZE                                                      \
  __attribute__((no_sanitize("address", "thread", "undefined")))
#endif
WEFT__NO_SANITIZE static void probe(void *dst, uintptr_t src, size_t n) {
  const volatile unsigned char *s = (const volatile unsigned char *)src;
  unsigned char *d = dst;
  for (size_t i = 0; i < n; i++)
    d[i] = s[i];
}

/* Finds the info the pool described; NULL and a reason in why. */
static const weft_fn_info *resolve(const char *name, const char *module,
                                   uint64_t offset, uint8_t flags, char *why,
                                   size_t whysize) {
  const weft_fn_info *fn = NULL;
  if (flags & 2) { /* no module: only the name is known */
    int rc = weft_fn_find(name, &fn);
    if (rc)
      snprintf(why, whysize,
               "function '%s' is not in static storage of the program or "
               "of a library, and the worker process has no function "
               "registered under that name (%s)",
               name, weft_strerror(rc));
    return rc ? NULL : fn;
  }
  const char *label = module[0] ? module : "the program";
  find_mod f = {module, 0, offset, sizeof(weft_fn_info), 0, 0};
  dl_iterate_phdr(find_module_cb, &f);
  if (!f.found && module[0]) {
    /* A library the pool's process loaded with dlopen(): load it here too
     * (its handle stays open for the life of the worker). */
    if (dlopen(module, RTLD_NOW | RTLD_GLOBAL))
      dl_iterate_phdr(find_module_cb, &f);
  }
  if (f.found != 2) {
    snprintf(why, whysize,
             f.found ? "function '%s': %s has no data at offset 0x%llx in "
                       "the worker process (it runs another build of the "
                       "program than the pool)"
                     : "function '%s': module %s is not loaded in the worker "
                       "process and cannot be loaded",
             name, label, (unsigned long long)offset);
    return NULL;
  }
  weft_fn_info copy;
  probe(&copy, f.addr, sizeof copy);
  find_mod s = {NULL, (uintptr_t)copy.name, 0, 0, 0, 0};
  if (copy.name)
    dl_iterate_phdr(room_cb, &s);
  size_t want = strlen(name) + 1;
  char *found = NULL;
  bool same = copy.name && copy.fn && s.room >= want && (found = malloc(want));
  if (same) {
    probe(found, (uintptr_t)copy.name, want);
    same = memcmp(found, name, want) == 0;
  }
  free(found);
  if (!same) {
    snprintf(why, whysize,
             "function '%s': %s holds another function at offset 0x%llx in "
             "the worker process (it runs another build of the program than "
             "the pool)",
             name, label, (unsigned long long)offset);
    return NULL;
  }
  fn = (const weft_fn_info *)f.addr; /* it is one: the name matched */
  if (flags & 1)
    weft_fn_register((weft_fn_info *)fn);
  return fn;
}

int weft__fnres_add(weft__fnres *t, weft__prd *r) {
  uint64_t first, count;
  if (weft__prd_varint(r, &first) || weft__prd_varint(r, &count) ||
      first != t->n || count > (uint64_t)(r->end - r->p))
    return WEFT_EWIRE;
  if (t->n + count > t->cap) {
    size_t cap = t->cap ? t->cap : 32;
    while (cap < t->n + count)
      cap *= 2;
    const weft_fn_info **f = realloc(t->fns, cap * sizeof *f);
    if (!f)
      return WEFT_ENOMEM;
    t->fns = f;
    char **e = realloc(t->errs, cap * sizeof *e);
    if (!e)
      return WEFT_ENOMEM;
    t->errs = e;
    t->cap = (uint32_t)cap;
  }
  for (uint64_t k = 0; k < count; k++) {
    const uint8_t *name, *mod;
    size_t nn, nm;
    uint64_t offset, nd;
    uint8_t flags;
    if (weft__prd_bytes(r, &name, &nn) || weft__prd_bytes(r, &mod, &nm) ||
        weft__prd_u64(r, &offset) || weft__prd_u8(r, &flags) ||
        weft__prd_varint(r, &nd) || nd > 8)
      return WEFT_EWIRE;
    char *sname = strndup((const char *)name, nn);
    char *smod = strndup((const char *)mod, nm);
    char why[512] = "";
    const weft_fn_info *fn =
        sname && smod ? resolve(sname, smod, offset, flags, why, sizeof why)
                      : NULL;
    free(sname);
    free(smod);
    if (fn && nd && (int)nd <= fn->arity &&
        weft_fn_min_arity(fn) == fn->arity) {
      /* kept for the worker's life, like its registry */
      weft__fn_defaults *d = calloc(1, sizeof *d);
      if (!d)
        return WEFT_ENOMEM;
      d->n = (int)nd;
      weft__fn_defaults_register(fn, d);
    }
    t->fns[t->n] = fn;
    t->errs[t->n] = fn ? NULL : strdup(why[0] ? why : "out of memory");
    t->n++;
  }
  return r->p == r->end ? 0 : WEFT_EWIRE;
}

void weft__fnres_free(weft__fnres *t) {
  for (uint32_t i = 0; i < t->n; i++)
    free(t->errs[i]);
  free(t->errs);
  free(t->fns);
  memset(t, 0, sizeof *t);
}
