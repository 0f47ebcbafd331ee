#ifndef SWIFTLET_CSHIMS_H
#define SWIFTLET_CSHIMS_H
#include "sl_zlib.h"
#include "sl_zstd.h"
#include "sl_sha256.h"
#include "sl_seccomp.h"
#include "sl_spawn.h"
#include "sl_exec.h"
#include "sl_spdy.h"
#include "sl_sys.h"
#include "sl_xattr.h"
#include "sl_fs.h"
#include "sl_netlink.h"
#include "sl_nft.h"
#include "sl_dns_io.h"
#include "sl_bpf.h"
#include "sl_nfnetlink.h"
#endif
