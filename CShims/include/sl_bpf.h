// cgroup v2 device control: the v2 hierarchy has no devices.allow/deny files; access to device
// nodes is decided by an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE attached to the
// group (runc's libcontainer/cgroups/devices/ebpf_linux.go, crun's ebpf.c). Swift builds the
// instructions (Cgroups' DeviceFilterProgram); loading and attaching are bpf(2) calls, which
// Glibc has no wrapper for (bpf(2) is only reachable through the variadic syscall(2)).
#ifndef SL_BPF_H
#define SL_BPF_H
#include <stdint.h>

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`: `regs` holds the
/// destination register in its low nibble and the source register in its high nibble.
struct sl_bpf_insn {
    uint8_t code;
    uint8_t regs;
    int16_t off;
    int32_t imm;
};

/// bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program; its fd, or -1 with errno.
/// When the verifier refuses it, its explanation is written to `log` (NUL-terminated).
int sl_bpf_load_device_program(const struct sl_bpf_insn *insns, uint32_t count, char *log, uint32_t log_size);

/// Attaches the program to the cgroup directory `cgroup_fd` as BPF_CGROUP_DEVICE with
/// BPF_F_ALLOW_MULTI (the flag systemd and runc use, so programs can be replaced without a
/// moment without one); 0, or -1 with errno.
int sl_bpf_attach_device_program(int cgroup_fd, int prog_fd);

/// The ids of the device programs attached to the cgroup itself (not inherited ones), up to
/// `max`; the count, or -1 with errno.
int sl_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t max);

/// Detaches the device program with id `id` from the cgroup; 0, or -1 with errno.
int sl_bpf_detach_device_program(int cgroup_fd, uint32_t id);
#endif
