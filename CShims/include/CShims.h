#ifndef SWIFTLET_CSHIMS_H
#define SWIFTLET_CSHIMS_H
#include "sl_zlib.h"
#include "sl_seccomp.h"
#endif
