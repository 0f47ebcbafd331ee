// SPDY/3 header-block compression: zlib primed with the protocol's dictionary, one stream per
// direction per session (the state carries over from one header block to the next).
#ifndef SL_SPDY_H
#define SL_SPDY_H
#include <stddef.h>

typedef struct sl_spdy_zlib sl_spdy_zlib;

#define SL_SPDY_ZLIB_ERROR (-1L)     ///< corrupt data, or the wrong dictionary
#define SL_SPDY_ZLIB_TOO_LARGE (-2L) ///< the result does not fit in the output buffer

/// A compressor (`deflating` 1) or decompressor (0); NULL when zlib cannot allocate one.
sl_spdy_zlib *sl_spdy_zlib_new(int deflating);
void sl_spdy_zlib_free(sl_spdy_zlib *s);
/// Decompresses one whole header block into `out`: its length, or SL_SPDY_ZLIB_*.
long sl_spdy_inflate(sl_spdy_zlib *s, const unsigned char *in, size_t inlen, unsigned char *out, size_t outcap);
/// Compresses one header block with a sync flush into `out` (at least sl_spdy_deflate_bound
/// bytes): its length, or SL_SPDY_ZLIB_*.
long sl_spdy_deflate(sl_spdy_zlib *s, const unsigned char *in, size_t inlen, unsigned char *out, size_t outcap);
size_t sl_spdy_deflate_bound(size_t inlen);
#endif
