// libnftables inside a node network namespace (sl_nft.h).
#include "include/sl_nft.h"
#include "netlink_ns.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <stddef.h>
#include <sys/select.h>
#include <unistd.h>

// libnftables 1.0.6 waits for netlink answers with select() (mnl_batch_talk), and glibc's
// fortified FD_SET aborts the whole process for a descriptor >= FD_SETSIZE (1024). A process
// with that many descriptors open (an agent with many pods, the test suite) must get an error
// instead: the context's socket takes the lowest free descriptor, so check that one first.
static int sl_nft_fd_fits(void) {
    int probe = fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (probe < 0) probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe < 0) return 0;
    close(probe);
    return probe < FD_SETSIZE - 8;
}

struct nft_ctx *sl_nft_new(int netns_fd, const char **step) {
    if (!sl_nft_fd_fits()) {
        *step = "nft_ctx_new: libnftables needs a descriptor below 1024 (FD_SETSIZE) and none is free";
        errno = EMFILE;
        return NULL;
    }
    int saved = sl_ns_enter(netns_fd, step);
    if (saved == -2) return NULL;
    // nftables 1.0.6 opens its netlink socket here; later versions may open it per command,
    // which is why sl_nft_run enters the namespace as well.
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (ctx == NULL) {
        *step = "nft_ctx_new";
        if (errno == 0) errno = ENOMEM;
    } else if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
        *step = "nft_ctx_buffer_output";
        nft_ctx_free(ctx);
        ctx = NULL;
        errno = ENOMEM;
    }
    sl_ns_leave(saved);
    return ctx;
}

int sl_nft_run(struct nft_ctx *ctx, int netns_fd, const char *commands, const char **output, const char **error) {
    static const char *none = "";
    *error = none;
    *output = none;
    const char *step = NULL;
    int saved = sl_ns_enter(netns_fd, &step);
    if (saved == -2) {
        *error = step;
        return -1;
    }
    errno = 0;
    int rc = nft_run_cmd_from_buffer(ctx, commands);
    int err = errno;
    sl_ns_leave(saved);
    // Reading the buffers resets them, so the next command starts clean either way.
    const char *text = nft_ctx_get_error_buffer(ctx);
    const char *out = nft_ctx_get_output_buffer(ctx);
    *output = out ? out : none;
    if (rc == 0) return 0;
    *error = text ? text : none;
    errno = err ? err : EINVAL;
    return -1;
}

void sl_nft_free(struct nft_ctx *ctx) {
    if (ctx) nft_ctx_free(ctx);
}
