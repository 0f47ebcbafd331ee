// Running a process inside a running container: exec probes, `kubectl exec` and the kubelet
// API's /run. The whole child path (cgroup, setns, fork into the PID namespace, terminal,
// privileges, seccomp, execve) is in C for the reasons spawn.c gives: the child of a clone
// from a multi-threaded Swift process may only make syscalls on ready-made data.
#ifndef SL_EXEC_H
#define SL_EXEC_H

#include "sl_spawn.h"

/// How the process's stdio is connected, beyond the fds in `sl_spawn_config`.
struct sl_exec_terminal {
    /// 1: a pseudo-terminal opened inside the container (its devpts, so `tty` prints
    /// /dev/pts/N there) becomes the process's stdin, stdout, stderr and controlling terminal,
    /// in a session of its own, as runc's `exec --tty` does; the config's stdio fds are ignored.
    int tty;
    /// The initial window size; 0 leaves the kernel's (0x0) until the first resize.
    unsigned short rows, cols;
};

/// Runs `cfg->argv` inside the running container behind `target_pidfd`, as runc's `exec`
/// does: joins `cfg->cgroup_procs`, every namespace of the target (net, ipc and uts are the
/// pod's, mnt, pid and cgroup the container's; setns with a pidfd, Linux 5.8+), forks into its
/// PID namespace, then applies rlimits, cwd, user, groups, capabilities, no_new_privs and
/// seccomp from `cfg` as sl_spawn does, and execs with `cfg->envp`.
///
/// The process we return (`res->pid`, `res->pidfd`) is our child, outside the container's PID
/// namespace: it keeps no fd, waits for the one in the container (which dies with it: parent
/// death signal SIGKILL) and ends as it ended, with its exit code or killed by its signal.
/// With `terminal->tty`, `*pty_master` receives the terminal's master side (CLOEXEC), for the
/// caller to read the process's output from and write its input to; otherwise it is -1.
/// Returns 0 once the process has exec'd, -1 with `res->step/err/detail` when it could not.
int sl_exec_in_container(int target_pidfd, const struct sl_spawn_config *cfg, const struct sl_exec_terminal *terminal,
                         int *pty_master, struct sl_spawn_result *res);

/// sl_exec_in_container without a terminal (exec probes).
int sl_exec_in(int target_pidfd, const struct sl_spawn_config *cfg, struct sl_spawn_result *res);

/// Sets a terminal's window size (TIOCSWINSZ on the master): the kernel sends SIGWINCH to the
/// terminal's foreground process group. 0, or -1 with errno.
int sl_pty_resize(int pty_master, unsigned short rows, unsigned short cols);

#endif
