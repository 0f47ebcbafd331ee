// bpf(2) for cgroup v2 device programs; see include/sl_bpf.h for why this is C.
#include "include/sl_bpf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

_Static_assert(sizeof(struct sl_bpf_insn) == sizeof(struct bpf_insn), "sl_bpf_insn must match struct bpf_insn");

static int sys_bpf(int cmd, union bpf_attr *attr) {
    int rc;
    do {
        rc = (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

int sl_bpf_load_device_program(const struct sl_bpf_insn *insns, uint32_t count, char *log, uint32_t log_size) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uint64_t)(uintptr_t)insns;
    attr.insn_cnt = count;
    // No GPL-only helpers are called: the license only has to be a string.
    attr.license = (uint64_t)(uintptr_t)"Apache";
    if (log && log_size > 0) {
        log[0] = 0;
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = log_size;
        attr.log_level = 1;
    }
    int fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd < 0 && log && log_size > 0 && errno == ENOSPC) {
        // The log did not fit; the load failed only for that. Retry without a log.
        attr.log_buf = 0;
        attr.log_size = 0;
        attr.log_level = 0;
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
    }
    return fd;
}

int sl_bpf_attach_device_program(int cgroup_fd, int prog_fd) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    return sys_bpf(BPF_PROG_ATTACH, &attr);
}

int sl_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t max) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.query.target_fd = (uint32_t)cgroup_fd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
    attr.query.prog_cnt = max;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) return -1;
    return (int)(attr.query.prog_cnt < max ? attr.query.prog_cnt : max);
}

int sl_bpf_detach_device_program(int cgroup_fd, uint32_t id) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    int prog_fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (prog_fd < 0) return -1;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgroup_fd;
    attr.attach_bpf_fd = (uint32_t)prog_fd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    int rc = sys_bpf(BPF_PROG_DETACH, &attr);
    int saved = errno;
    close(prog_fd);
    errno = saved;
    return rc;
}
