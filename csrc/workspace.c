/* workspace.c -- every work array and Enzyme tape of the library comes from here: malloc, plus a
 * small cache of freed large blocks.
 *
 * Why a cache: glibc's malloc serves a block of megabytes with a fresh mmap, and each of its
 * pages faults on first touch (~2.5 us per 4 KiB page, measured here). getri's adjoint at
 * n = 1000 takes 16 MB of workspace: 3,900 faults, ~10 ms of its ~75 ms; Julia's inv through
 * Enzyme also tapes two 8 MB copies (~2 ms of faults each). A program that differentiates the
 * same calls again and again (an optimisation loop, an ODE integrator, a benchmark's timing
 * loop) gets the same blocks back instead, already mapped. Caching allocators of other AD
 * systems (PyTorch's, XLA's) keep freed memory for the same reason.
 *
 * Policy. A block of at least CACHE_MIN_BYTES goes back into the cache when freed, if it fits
 * under the limit; the cache holds at most CACHE_SLOTS blocks and `limit` bytes in all,
 * evicting the oldest. A request of at least CACHE_MIN_BYTES takes the smallest cached block
 * that is large enough. The limit is DIFFLAPACK_WORKSPACE_CACHE_MB (MiB, read at first use;
 * 0 turns the cache off), else DL_WORKSPACE_CACHE_DEFAULT_MB (128); dl_set_workspace_cache and
 * dl_release_workspace change it and give the memory back. Thread-safe (one mutex: the tapes
 * of a split reverse pass may be freed by another thread than the one that allocated them).
 *
 * A request takes a cached block at most twice its size (a small request must not pin a large
 * block). Every block carries a header (its capacity and a magic number, changed when the block
 * is freed), so that dl_free knows what it holds; a pointer that did not come from
 * dl_alloc_bytes, or one freed twice, stops the process with a message rather than corrupting
 * the heap or caching a block twice. Cached memory is not cleared: no kernel reads work space it
 * has not written: the C fuzzer (tests/fuzz) builds this file with DL_WORKSPACE_POISON, which
 * fills every block handed out with NaN bytes, so that such a read shows in its results. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define CACHE_MIN_BYTES ((size_t)1 << 20)
#define CACHE_SLOTS 8
#ifndef DL_WORKSPACE_CACHE_DEFAULT_MB /* the C fuzzer builds with 0: ASan then sees every block */
#define DL_WORKSPACE_CACHE_DEFAULT_MB 128
#endif
#define HEAD_BYTES 64 /* keeps the caller's pointer 64-byte aligned */
#define MAGIC ((size_t)0x646c776b73706163ULL)
#define MAGIC_FREED ((size_t)0x646c776b66726565ULL) /* a block dl_free has taken back */

typedef struct {
    size_t capacity; /* usable bytes after the header */
    size_t magic;
} block_head;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static void *cached[CACHE_SLOTS]; /* user pointers, oldest first */
static int cached_count;
static size_t cached_bytes;
static size_t limit_bytes;
static int limit_known;

/* fork() while another thread holds the lock would leave it locked in the child forever (as
 * glibc's malloc does for its arenas): hold it across the fork, release it on both sides. */
static void lock_for_fork(void) { pthread_mutex_lock(&cache_lock); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&cache_lock); }
__attribute__((constructor)) static void register_fork_handlers(void) {
    pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
}

static block_head *head_of(void *p) { return (block_head *)((char *)p - HEAD_BYTES); }

/* Under the lock. */
static size_t limit_locked(void) {
    if (!limit_known) {
        /* decimal digits only, and a size that fits: anything else (a sign, garbage, too many
         * digits) leaves the default */
        const char *env = getenv("DIFFLAPACK_WORKSPACE_CACHE_MB");
        size_t mb = DL_WORKSPACE_CACHE_DEFAULT_MB, value = 0;
        int ok = env && *env;
        for (const char *c = env; ok && *c; ++c) {
            ok = *c >= '0' && *c <= '9' && value <= ((SIZE_MAX >> 20) - (size_t)(*c - '0')) / 10;
            value = value * 10 + (size_t)(*c - '0');
        }
        if (ok) mb = value;
        limit_bytes = mb << 20;
        limit_known = 1;
    }
    return limit_bytes;
}

static void *take_from_cache(size_t bytes) {
    void *p = NULL;
    pthread_mutex_lock(&cache_lock);
    int best = -1;
    for (int i = 0; i < cached_count; ++i) {
        const size_t cap = head_of(cached[i])->capacity;
        /* at most twice the request: a small request must not pin a large block */
        if (cap >= bytes && cap / 2 <= bytes && (best < 0 || cap < head_of(cached[best])->capacity)) best = i;
    }
    if (best >= 0) {
        p = cached[best];
        cached_bytes -= head_of(p)->capacity;
        memmove(cached + best, cached + best + 1, sizeof(void *) * (size_t)(cached_count - best - 1));
        --cached_count;
        head_of(p)->magic = MAGIC;
    }
    pthread_mutex_unlock(&cache_lock);
    return p;
}

static void release_block(void *p) { free(head_of(p)); }

/* Evicts the oldest blocks until `room` more bytes (and, if slot, one more block) fit under
 * `limit`; returns them in `out` (freed by the caller outside the lock). Under the lock. */
static int evict_locked(size_t room, int slot, size_t limit, void **out) {
    int n = 0;
    while (cached_count > 0 && ((slot && cached_count >= CACHE_SLOTS) || cached_bytes + room > limit)) {
        void *old = cached[0];
        cached_bytes -= head_of(old)->capacity;
        memmove(cached, cached + 1, sizeof(void *) * (size_t)(cached_count - 1));
        --cached_count;
        out[n++] = old;
    }
    return n;
}

void *dl_alloc_bytes(size_t bytes) {
    if (bytes >= CACHE_MIN_BYTES) {
        void *p = take_from_cache(bytes);
        if (p) {
#ifdef DL_WORKSPACE_POISON
            memset(p, 0xff, bytes);
#endif
            return p;
        }
    }
    if (bytes > SIZE_MAX - HEAD_BYTES) return NULL;
    void *base = NULL;
    if (posix_memalign(&base, HEAD_BYTES, HEAD_BYTES + (bytes ? bytes : 1))) return NULL;
    block_head *h = (block_head *)base;
    h->capacity = bytes;
    h->magic = MAGIC;
    void *p = (char *)base + HEAD_BYTES;
#ifdef DL_WORKSPACE_POISON
    memset(p, 0xff, bytes);
#endif
    return p;
}

void dl_free(void *p) {
    if (!p) return;
    block_head *h = head_of(p);
    if (h->magic != MAGIC) {
        fprintf(stderr, "difflapack: dl_free of a pointer %s (%p)\n",
                h->magic == MAGIC_FREED ? "freed before (a double free)" : "it did not allocate (or a double free)", p);
        abort();
    }
    h->magic = MAGIC_FREED;
    const size_t cap = h->capacity;
    if (cap < CACHE_MIN_BYTES) {
        release_block(p);
        return;
    }
    void *evicted[CACHE_SLOTS];
    int n_evicted = 0, kept = 0;
    pthread_mutex_lock(&cache_lock);
    const size_t limit = limit_locked();
    if (cap <= limit) {
        n_evicted = evict_locked(cap, 1, limit, evicted);
        cached[cached_count++] = p;
        cached_bytes += cap;
        kept = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    for (int i = 0; i < n_evicted; ++i) release_block(evicted[i]);
    if (!kept) release_block(p);
}

void dl_set_workspace_cache(size_t bytes) {
    void *evicted[CACHE_SLOTS];
    pthread_mutex_lock(&cache_lock);
    limit_bytes = bytes;
    limit_known = 1;
    const int n = evict_locked(0, 0, bytes, evicted);
    pthread_mutex_unlock(&cache_lock);
    for (int i = 0; i < n; ++i) release_block(evicted[i]);
}

size_t dl_workspace_cache(void) {
    pthread_mutex_lock(&cache_lock);
    const size_t limit = limit_locked();
    pthread_mutex_unlock(&cache_lock);
    return limit;
}

size_t dl_workspace_cached_bytes(void) {
    pthread_mutex_lock(&cache_lock);
    const size_t bytes = cached_bytes;
    pthread_mutex_unlock(&cache_lock);
    return bytes;
}

void dl_release_workspace(void) {
    void *all[CACHE_SLOTS];
    pthread_mutex_lock(&cache_lock);
    const int n = cached_count;
    memcpy(all, cached, sizeof(void *) * (size_t)n);
    cached_count = 0;
    cached_bytes = 0;
    pthread_mutex_unlock(&cache_lock);
    for (int i = 0; i < n; ++i) release_block(all[i]);
}
