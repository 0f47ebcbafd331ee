// Extended attributes: Swift's Glibc module does not export <sys/xattr.h>. Used to mark
// overlayfs opaque directories (trusted.overlay.opaque) when unpacking image layers.
#ifndef SL_XATTR_H
#define SL_XATTR_H
#include <sys/xattr.h>
#endif
