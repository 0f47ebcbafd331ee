// The container spawn path: everything between clone and execve.
//
// Why C: fork/vfork are unusable from a multi-threaded Swift process, and the child of a
// clone from such a process may not allocate (another thread may have held the malloc lock).
// So Swift prepares every string, the capability masks and the compiled seccomp BPF, and the
// child below only makes syscalls on ready-made data. Failures come back to the parent over a
// CLOEXEC pipe as (step, errno, detail); EOF on that pipe means execve succeeded.
#ifndef SL_SPAWN_H
#define SL_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

/// What a mount entry does; applied in order, inside the new root, before pivot_root.
enum sl_mount_kind {
    SL_MOUNT_FS = 0,      ///< mount(source, target, fstype, flags, data): proc, tmpfs, devpts, sysfs, mqueue...
    SL_MOUNT_BIND = 1,    ///< bind a host path (file or directory) onto target; `readonly` remounts it ro
    SL_MOUNT_DEVICE = 2,  ///< mknod(target, mode, makedev(major, minor)); `source` unused
    SL_MOUNT_SYMLINK = 3, ///< symlink(source, target)
    SL_MOUNT_REMOUNT = 4, ///< remount what an earlier entry mounted at target: `flags` added, read-only when
                          ///< `readonly` (a tmpfs that must be writable while later entries create
                          ///< their mount points in it, read-only afterwards)
};

struct sl_mount {
    int kind;                 ///< enum sl_mount_kind
    const char *source;       ///< host path (bind), fs source name (fs) or link text (symlink)
    const char *target;       ///< absolute path inside the container, resolved safely inside the root
    const char *fstype;       ///< for SL_MOUNT_FS
    unsigned long flags;      ///< MS_* flags for SL_MOUNT_FS / extra flags for bind (MS_NOSUID...)
    const char *data;         ///< fs data string, or NULL
    int readonly;             ///< remount read-only after mounting
    int target_is_file;       ///< create the target as an empty file (bind of a file) rather than a dir
    uint32_t mode;            ///< for devices: S_IFCHR|0666 etc.
    uint32_t major, minor;    ///< for devices
};

struct sl_rlimit {
    int resource;
    uint64_t soft, hard;
};

/// Steps reported on failure, so the caller can say `pivot_root: EINVAL`.
enum sl_spawn_step {
    SL_STEP_NONE = 0,
    SL_STEP_CLONE, SL_STEP_STDIO, SL_STEP_CGROUP, SL_STEP_SETNS, SL_STEP_SETHOSTNAME,
    SL_STEP_MOUNT_PRIVATE, SL_STEP_MOUNT_ROOTFS, SL_STEP_OPEN_ROOT, SL_STEP_MKDIR_TARGET,
    SL_STEP_MOUNT, SL_STEP_REMOUNT_RO, SL_STEP_MKNOD, SL_STEP_SYMLINK, SL_STEP_PIVOT_ROOT,
    SL_STEP_UMOUNT_OLDROOT, SL_STEP_MASK_PATH, SL_STEP_READONLY_PATH, SL_STEP_READONLY_ROOT,
    SL_STEP_RLIMIT, SL_STEP_CAPBSET, SL_STEP_SETGROUPS, SL_STEP_SETGID, SL_STEP_SETUID,
    SL_STEP_CAPSET, SL_STEP_AMBIENT, SL_STEP_CHDIR, SL_STEP_NO_NEW_PRIVS, SL_STEP_SECCOMP,
    SL_STEP_CLOSE_FDS, SL_STEP_EXEC, SL_STEP_OOM_SCORE, SL_STEP_PIPE, SL_STEP_SYNC,
    SL_STEP_CGROUP_NS, SL_STEP_PTY, SL_STEP_CONSOLE_SOCKET, SL_STEP_ATTACH_SOCKET,
};

/// A human name for a step ("pivot_root", "execve", ...).
const char *sl_step_name(int step);

struct sl_spawn_config {
    // Namespaces.
    int clone_flags;              ///< CLONE_NEW* to create (at least NEWNS|NEWPID for a container)
    const int *join_fds;          ///< namespace fds to setns into (pod net/ipc/uts), in order
    const int *join_types;        ///< CLONE_NEWNET etc. for each fd
    int njoin;
    const char *hostname;         ///< set when the container has its own UTS namespace; NULL = leave
    int pid_ns_fd;                ///< a PID namespace to start the container in (the pod's, for
                                  ///< shareProcessNamespace), or -1; then clone_flags has no CLONE_NEWPID
    // cgroups: cgroup.procs files the child writes "0" into before anything else.
    const char *const *cgroup_procs;
    int ncgroup_procs;
    int cgroup_namespace;         ///< unshare(CLONE_NEWCGROUP) right after joining the cgroups, so the
                                  ///< container's group is its namespace's root (cgroup v2, as runc does)
    // Root filesystem.
    const char *rootfs;           ///< existing empty directory on the host: the mount point
    const char *overlay_data;     ///< overlayfs options (lowerdir=..,upperdir=..,workdir=..), or NULL to bind `rootfs` itself
    const struct sl_mount *mounts;
    int nmounts;
    const char *const *masked_paths;   ///< after pivot_root: /dev/null over files, empty ro tmpfs over dirs
    int nmasked;
    const char *const *readonly_paths; ///< after pivot_root: bound onto themselves read-only
    int nreadonly;
    int readonly_rootfs;
    // The process.
    const char *const *argv;      ///< NULL-terminated
    const char *const *envp;      ///< NULL-terminated
    const char *path_env;         ///< the container's PATH, for looking up argv[0] without '/'; NULL = default
    const char *cwd;              ///< created inside the root when missing (as runc does)
    uint32_t uid, gid;
    const uint32_t *groups;       ///< supplementary groups
    int ngroups;
    const struct sl_rlimit *rlimits;
    int nrlimits;
    int oom_score_adj;            ///< written when set_oom_score_adj; a preference: when the kernel
    int set_oom_score_adj;        ///< refuses it (EACCES), the lowest value it accepts is used instead
    // Privileges.
    int cap_last_cap;             ///< from /proc/sys/kernel/cap_last_cap
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int no_new_privs;
    const void *seccomp_filter;   ///< struct sock_filter[]; NULL = no filter
    unsigned short seccomp_len;   ///< number of sock_filter instructions
    // stdio (already open in the parent; -1 = /dev/null is NOT substituted, fd left as is).
    int stdin_fd, stdout_fd, stderr_fd;
    /// 1: after the mounts, the container opens a terminal of its own devpts (so `tty` says
    /// /dev/pts/N inside), makes it its stdin, stdout, stderr and controlling terminal in a
    /// session of its own, and sends the master over `console_socket` (SCM_RIGHTS), as runc
    /// does with its console socket; the stdio fds above are then ignored.
    int tty;
    int console_socket;
    unsigned short tty_rows, tty_cols; ///< the initial window size; 0 leaves the kernel's
};

struct sl_spawn_result {
    pid_t pid;         ///< the container's pid in the caller's pid namespace
    int pidfd;         ///< a pidfd for it (CLOEXEC), or -1 when the kernel has none
    int step;          ///< enum sl_spawn_step on failure, 0 on success
    int err;           ///< errno on failure
    char detail[256];  ///< the path or name the failing step worked on
    int oom_score_adj_refused;  ///< 1 when the kernel refused cfg->oom_score_adj (no CAP_SYS_RESOURCE)
    int oom_score_adj_applied;  ///< then: the value the container got instead, the lowest allowed
};

/// Clone the container process and run it up to execve. Returns 0 when the new process has
/// exec'd, -1 with `res->step/err/detail` set when it failed (the child is then reaped).
int sl_spawn(const struct sl_spawn_config *cfg, struct sl_spawn_result *res);

struct sl_monitored_result {
    pid_t container_pid;  ///< the container's init
    pid_t monitor_pid;    ///< the monitor: the container's parent, not ours (reparented to init)
    int container_pidfd;  ///< pidfds for both, opened while they could not have been reaped
    int monitor_pidfd;
    int step, err;        ///< as in sl_spawn_result
    char detail[256];
    int oom_score_adj_refused, oom_score_adj_applied; ///< as in sl_spawn_result
};

/// How a monitored container's own stdio is made (kubelet's container `stdin`/`tty`).
struct sl_monitor_stdio {
    /// 1: the container runs on a terminal of its own (see `sl_spawn_config.tty`); the monitor
    /// gets the master on fd 3 (its output, its input, its window size). 0: stdout and stderr
    /// are pipes (fds 3 and 4).
    int tty;
    unsigned short rows, cols;
    /// Without a terminal: 1 makes the container's stdin a pipe whose write end the monitor
    /// holds on fd 6; 0 gives it /dev/null (containerd's default).
    int stdin_pipe;
    /// A directory for the attach socket (`<dir>/attach`, sl_attach.h), handed to the monitor
    /// listening on fd 7; NULL for none.
    const char *attach_dir;
};

/// Starts the container under a monitor that outlives us. A double fork makes a process that is
/// not our child (so it survives us and nobody needs us to reap it); it becomes a session leader,
/// spawns the container exactly as `sl_spawn` does with its stdio as `stdio` says, reports back,
/// waits until we hold pidfds for both, then execs `monitor_path` with `monitor_argv` (its own
/// stdin/out/err on /dev/null; fds 3-7 as in Monitor/monitor.c; the container's pid appended as
/// the last argument). `cfg`'s stdio and terminal fields are ignored.
int sl_spawn_monitored(const struct sl_spawn_config *cfg, const char *monitor_path,
                       const char *const *monitor_argv, const struct sl_monitor_stdio *stdio,
                       struct sl_monitored_result *res);

/// Starts the init of a pod's shared PID namespace (shareProcessNamespace): a process cloned
/// into a new PID namespace that execs `pause_path` with `pause_argv` and lives until killed,
/// reaping the orphans of the pod's containers, as the pause container does under containerd.
/// A double fork makes it not our child, so it survives us. Returns its pid and a pidfd, and
/// an fd of the PID namespace.
int sl_pause_create(const char *pause_path, const char *const *pause_argv, pid_t *pid, int *pidfd, int *nsfd,
                    struct sl_spawn_result *res);

/// Create a pod sandbox: new namespaces given by `clone_flags` (CLONE_NEWNET|CLONE_NEWIPC|
/// CLONE_NEWUTS...), set `hostname` in the UTS one, bring `lo` up in the network one, and
/// return one fd per namespace in `out_fds` (order: net, ipc, uts; -1 when not created).
/// No process is involved: the calling thread unshares, and returns to its own namespaces
/// before this returns; the fds keep the new ones alive.
int sl_sandbox_create(int clone_flags, const char *hostname, int out_fds[3], struct sl_spawn_result *res);

#endif
