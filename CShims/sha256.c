// SHA-256 over libcrypto's low-level interface: a plain struct context, so the Swift hasher
// stays a copyable value with no allocation. Deprecated in OpenSSL 3 in favour of EVP, which
// needs a heap context per hash and an extra indirection per update; the low-level functions
// use the same accelerated block function.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include "sl_sha256.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(sl_sha256_ctx), "sl_sha256_ctx is too small for SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(sl_sha256_ctx), "sl_sha256_ctx is under-aligned");

void sl_sha256_init(sl_sha256_ctx *ctx) {
    SHA256_Init((SHA256_CTX *)ctx);
}

void sl_sha256_update(sl_sha256_ctx *ctx, const void *data, size_t length) {
    SHA256_Update((SHA256_CTX *)ctx, data, length);
}

void sl_sha256_final(sl_sha256_ctx *ctx, uint8_t out[32]) {
    SHA256_Final(out, (SHA256_CTX *)ctx);
}
