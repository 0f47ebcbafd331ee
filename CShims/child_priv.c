// Privileges of the container child: bounding set, user and groups, capabilities, seccomp.
//
// Raw syscalls on purpose: glibc's setresuid/setgroups broadcast the change to every thread
// glibc believes exists (SIGSETXID), and a child cloned from a multi-threaded Swift process
// inherits that stale thread list. The raw syscall changes just this (only) thread.
#include "sl_child.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

// <linux/capability.h> conflicts with libcap's header elsewhere in the target; capset(2)'s
// ABI is small enough to spell out here.
struct sl_cap_header { uint32_t version; int pid; };
struct sl_cap_data { uint32_t effective, permitted, inheritable; };
#define SL_CAP_V3 0x20080522

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

void sl_drop_privileges(const struct sl_spawn_config *cfg, int errpipe) {
    // The bounding set must shrink while we still hold CAP_SETPCAP, i.e. before setuid/capset.
    for (int c = 0; c <= cfg->cap_last_cap && c < 64; c++) {
        if (cfg->cap_bounding & (1ULL << c)) continue;
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
            sl_child_fail(errpipe, SL_STEP_CAPBSET, errno, "PR_CAPBSET_DROP");
    }
    if (syscall(SYS_setgroups, cfg->ngroups, cfg->ngroups ? cfg->groups : NULL) < 0)
        sl_child_fail(errpipe, SL_STEP_SETGROUPS, errno, "setgroups");
    if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0)
        sl_child_fail(errpipe, SL_STEP_SETGID, errno, "setresgid");
    // Keep the permitted set across the uid change; capset below then sets it exactly.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        sl_child_fail(errpipe, SL_STEP_SETUID, errno, "PR_SET_KEEPCAPS");
    if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0)
        sl_child_fail(errpipe, SL_STEP_SETUID, errno, "setresuid");
    struct sl_cap_header hdr = { SL_CAP_V3, 0 };
    struct sl_cap_data data[2];
    data[0].effective = (uint32_t)cfg->cap_effective;
    data[1].effective = (uint32_t)(cfg->cap_effective >> 32);
    data[0].permitted = (uint32_t)cfg->cap_permitted;
    data[1].permitted = (uint32_t)(cfg->cap_permitted >> 32);
    data[0].inheritable = (uint32_t)cfg->cap_inheritable;
    data[1].inheritable = (uint32_t)(cfg->cap_inheritable >> 32);
    if (syscall(SYS_capset, &hdr, data) < 0)
        sl_child_fail(errpipe, SL_STEP_CAPSET, errno, "capset");
    for (int c = 0; c <= cfg->cap_last_cap && c < 64; c++) {
        if (!(cfg->cap_ambient & (1ULL << c))) continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
            sl_child_fail(errpipe, SL_STEP_AMBIENT, errno, "PR_CAP_AMBIENT_RAISE");
    }
}

void sl_load_seccomp(const struct sl_spawn_config *cfg, int errpipe) {
    if (!cfg->seccomp_filter || cfg->seccomp_len == 0) return;
    struct sock_fprog prog;
    prog.len = cfg->seccomp_len;
    prog.filter = (struct sock_filter *)cfg->seccomp_filter;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        sl_child_fail(errpipe, SL_STEP_SECCOMP, errno, "seccomp(SECCOMP_SET_MODE_FILTER)");
}
