// libnftables, run inside a node's network namespace. Why C: nftables rules live per network
// namespace, and the library's netlink socket belongs to the namespace of the thread that
// opened it, so the context is created and every command run between setns into the node
// namespace and setns back on the same thread, with nothing else running in between. All
// calls of the process run on one worker thread with a descriptor table of its own, so the
// library's select() never sees a descriptor >= 1024 (netlink_nft.c says why). Calls block.
#ifndef SL_NFT_H
#define SL_NFT_H

struct nft_ctx;

/// A libnftables context created inside `netns_fd` (-1: the calling thread's namespace), with
/// output and errors captured in buffers instead of printed. NULL with errno and `*step` on failure.
struct nft_ctx *sl_nft_new(int netns_fd, const char **step);

/// Runs `commands` (nft syntax; the whole buffer is one transaction, all or nothing) inside
/// `netns_fd`. Returns 0 with `*output` (what `list` commands print), or -1 with `*error`
/// (nft's error text) and errno set (EINVAL when nft gave none). Both texts are owned by `ctx`
/// and valid until its next use.
int sl_nft_run(struct nft_ctx *ctx, int netns_fd, const char *commands, const char **output, const char **error);

/// Frees a context from sl_nft_new.
void sl_nft_free(struct nft_ctx *ctx);
#endif
