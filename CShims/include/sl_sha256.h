// SHA-256 for image content addressing (layer and manifest digests, diffIDs), through OpenSSL's
// libcrypto, which uses the CPU's SHA extensions (SHA-NI, ARMv8 SHA2) where present: several
// times faster than portable code, and fast in debug builds too, where tests hash many layers.
// OpenSSL's own header stays out of Swift's view (its SHA256() function would clash with the
// Images module's SHA256 type): the context is an opaque block of the right size.
#ifndef SL_SHA256_H
#define SL_SHA256_H
#include <stddef.h>
#include <stdint.h>

/// Room for OpenSSL's SHA256_CTX (112 bytes in OpenSSL 3; checked at compile time).
typedef struct {
    uint64_t opaque[16];
} sl_sha256_ctx;

void sl_sha256_init(sl_sha256_ctx *ctx);
void sl_sha256_update(sl_sha256_ctx *ctx, const void *data, size_t length);
/// Writes the 32-byte digest to `out`; the context must be initialised again before reuse.
void sl_sha256_final(sl_sha256_ctx *ctx, uint8_t out[32]);
#endif
