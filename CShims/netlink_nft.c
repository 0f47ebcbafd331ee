// libnftables inside a node network namespace (sl_nft.h), every call on one thread of its own.
//
// Why one thread with a descriptor table of its own: libnftables 1.0.6 waits for netlink
// answers with select() (mnl_batch_talk), and glibc's fortified FD_SET aborts the whole process
// ("bit out of range 0 - FD_SETSIZE on fd_set") when its socket is descriptor 1024 or above.
// An agent with many pods or proxied connections, or the test suite with a few hundred test
// servers open at once, passes 1024 descriptors easily, and a check of the lowest free one
// before nft_ctx_new races with every other thread opening files. So the worker thread gives
// up its share of the process' descriptor table (close_range(CLOSE_RANGE_UNSHARE), as a thread
// may: CLONE_FILES is per task) and keeps only stdin/out/err: its libnftables sockets are
// always single-digit descriptors, whatever the rest of the process holds. A single thread also
// serialises the library, whose globals (the interface cache, one-time init) are not thread-safe.
//
// Callers hand over the namespace by descriptor number in their own table; the worker reopens
// it through /proc/<pid>/task/<caller>/fd/N (the caller waits meanwhile, so it stays open).
#include "include/sl_nft.h"
#include "netlink_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

enum sl_nft_op { SL_NFT_NEW, SL_NFT_RUN, SL_NFT_FREE };

// One call, filled in by the caller and answered by the worker.
struct sl_nft_call {
    enum sl_nft_op op;
    pid_t caller;           // thread id whose table holds netns_fd
    int netns_fd;           // in the caller's table
    struct nft_ctx *ctx;    // in (RUN, FREE) and out (NEW)
    const char *commands;
    const char *output, *error, *step;
    int rc, err;
    int done;
};

static pthread_mutex_t sl_nft_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sl_nft_changed = PTHREAD_COND_INITIALIZER;
static struct sl_nft_call *sl_nft_pending;   // the call the worker takes next
static int sl_nft_busy;                      // a caller owns the worker until its answer
static int sl_nft_started, sl_nft_start_error;

// The descriptor table of this thread alone, holding 0-2 only. Kernels before 5.9 have no
// close_range: unshare and close one by one.
static void sl_nft_private_table(void) {
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_UNSHARE) == 0) return;
    if (unshare(CLONE_FILES) != 0) {
        // Without a private table the worker would close the process' own descriptors.
        fprintf(stderr, "swiftlet: nftables worker: unshare(CLONE_FILES): %m\n");
        abort();
    }
    long limit = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (limit > 0 ? limit : 65536); fd++) close((int)fd);
}

// Opens the caller's descriptor `fd` in this thread's table.
static int sl_nft_adopt(pid_t caller, int fd, const char **step) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/fd/%d", (int)getpid(), (int)caller, fd);
    int own = open(path, O_RDONLY | O_CLOEXEC);
    if (own < 0) *step = "open(/proc/PID/task/TID/fd/N) of the namespace";
    return own;
}

static void sl_nft_answer(struct sl_nft_call *call) {
    static const char *none = "";
    call->output = none;
    call->error = none;
    call->rc = -1;
    call->err = 0;
    if (call->op == SL_NFT_FREE) {
        nft_ctx_free(call->ctx);
        call->rc = 0;
        return;
    }
    int netns = sl_nft_adopt(call->caller, call->netns_fd, &call->step);
    if (netns < 0) {
        call->err = errno;
        call->error = call->step;
        return;
    }
    int saved = sl_ns_enter(netns, &call->step);
    if (saved == -2) {
        call->err = errno;
        call->error = call->step;
        close(netns);
        return;
    }
    if (call->op == SL_NFT_NEW) {
        // nftables 1.0.6 opens its netlink socket here, in the namespace entered.
        errno = 0;
        struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (ctx == NULL) {
            call->step = "nft_ctx_new";
            call->err = errno ? errno : ENOMEM;
        } else if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
            call->step = "nft_ctx_buffer_output";
            call->err = ENOMEM;
            nft_ctx_free(ctx);
        } else {
            call->ctx = ctx;
            call->rc = 0;
        }
    } else {
        errno = 0;
        call->rc = nft_run_cmd_from_buffer(call->ctx, call->commands);
        call->err = errno;
        // Reading the buffers resets them, so the next command starts clean either way.
        const char *text = nft_ctx_get_error_buffer(call->ctx);
        const char *out = nft_ctx_get_output_buffer(call->ctx);
        if (out) call->output = out;
        if (call->rc != 0 && text) call->error = text;
        if (call->rc != 0 && call->err == 0) call->err = EINVAL;
    }
    sl_ns_leave(saved);
    close(netns);
}

static void *sl_nft_worker(void *unused) {
    (void)unused;
    sl_nft_private_table();
    pthread_mutex_lock(&sl_nft_lock);
    for (;;) {
        while (sl_nft_pending == NULL) pthread_cond_wait(&sl_nft_changed, &sl_nft_lock);
        struct sl_nft_call *call = sl_nft_pending;
        sl_nft_pending = NULL;
        pthread_mutex_unlock(&sl_nft_lock);
        sl_nft_answer(call);
        pthread_mutex_lock(&sl_nft_lock);
        call->done = 1;
        pthread_cond_broadcast(&sl_nft_changed);
    }
    return NULL;
}

// Starts the worker once, with every signal blocked (they belong to the process' other
// threads). Called with sl_nft_lock held.
static int sl_nft_start(void) {
    if (sl_nft_started) return sl_nft_start_error;
    sl_nft_started = 1;
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    sl_nft_start_error = pthread_create(&thread, NULL, sl_nft_worker, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (sl_nft_start_error == 0) pthread_detach(thread);
    else sl_nft_started = 0;  // the next call tries again
    return sl_nft_start_error;
}

// Runs `call` on the worker and waits for its answer. -1 with errno when there is no worker.
static int sl_nft_call(struct sl_nft_call *call) {
    call->caller = (pid_t)syscall(SYS_gettid);
    call->done = 0;
    pthread_mutex_lock(&sl_nft_lock);
    int rc = sl_nft_start();
    if (rc != 0) {
        pthread_mutex_unlock(&sl_nft_lock);
        call->step = "pthread_create(nftables worker)";
        errno = rc;
        return -1;
    }
    while (sl_nft_busy) pthread_cond_wait(&sl_nft_changed, &sl_nft_lock);
    sl_nft_busy = 1;
    sl_nft_pending = call;
    pthread_cond_broadcast(&sl_nft_changed);
    while (!call->done) pthread_cond_wait(&sl_nft_changed, &sl_nft_lock);
    sl_nft_busy = 0;
    pthread_cond_broadcast(&sl_nft_changed);
    pthread_mutex_unlock(&sl_nft_lock);
    return 0;
}

// The namespace the worker enters: `netns_fd`, or the calling thread's own (opened here, in
// the caller's table, and closed by the caller after the call).
static int sl_nft_namespace(int netns_fd, int *opened, const char **step) {
    *opened = -1;
    if (netns_fd >= 0) return netns_fd;
    *opened = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*opened < 0) *step = "open(/proc/thread-self/ns/net)";
    return *opened;
}

struct nft_ctx *sl_nft_new(int netns_fd, const char **step) {
    int opened;
    struct sl_nft_call call = {.op = SL_NFT_NEW};
    call.netns_fd = sl_nft_namespace(netns_fd, &opened, step);
    if (call.netns_fd < 0) return NULL;
    int rc = sl_nft_call(&call);
    int err = rc == 0 ? call.err : errno;
    if (opened >= 0) close(opened);
    if (rc != 0 || call.rc != 0) {
        *step = call.step;
        errno = err;
        return NULL;
    }
    return call.ctx;
}

int sl_nft_run(struct nft_ctx *ctx, int netns_fd, const char *commands, const char **output, const char **error) {
    static const char *none = "";
    *output = none;
    *error = none;
    int opened;
    struct sl_nft_call call = {.op = SL_NFT_RUN, .ctx = ctx, .commands = commands};
    call.netns_fd = sl_nft_namespace(netns_fd, &opened, error);
    if (call.netns_fd < 0) return -1;
    int rc = sl_nft_call(&call);
    int err = rc == 0 ? call.err : errno;
    if (opened >= 0) close(opened);
    if (rc != 0) {
        *error = call.step;
        errno = err;
        return -1;
    }
    *output = call.output;
    if (call.rc == 0) return 0;
    *error = call.error;
    errno = err;
    return -1;
}

void sl_nft_free(struct nft_ctx *ctx) {
    if (ctx == NULL) return;
    struct sl_nft_call call = {.op = SL_NFT_FREE, .ctx = ctx};
    // Without a worker there is no context to free: sl_nft_new made none.
    (void)sl_nft_call(&call);
}
