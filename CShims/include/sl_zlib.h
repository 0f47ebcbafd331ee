// zlib, for gunzip of image layers: Swift has no built-in inflate on Linux.
#ifndef SL_ZLIB_H
#define SL_ZLIB_H
#include <zlib.h>
#endif
