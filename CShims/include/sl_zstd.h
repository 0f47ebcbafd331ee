// libzstd, for zstd-compressed image layers (application/vnd.oci.image.layer.v1.tar+zstd):
// Swift has no zstd decoder; Debian's libzstd-dev provides the streaming API.
#ifndef SL_ZSTD_H
#define SL_ZSTD_H
#include <zstd.h>
#endif
