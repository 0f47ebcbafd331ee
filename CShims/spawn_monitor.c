// Containers that outlive the agent (sl_spawn_monitored) and the init of a pod's shared PID
// namespace (sl_pause_create). Both reuse the spawn path of spawn.c; exec.c runs processes
// inside a running container.
//
// Process tree of a monitored start, and why:
//   agent ──clone──▶ A ──clone──▶ B ──(sl_spawn)──▶ container
//                    A exits at once, so B is reparented to init: B is not the agent's child, and
//                    killing or restarting the agent cannot take B (or the container) with it.
//                    None of the three copies the agent's page tables: A and the container are
//                    vfork-style children (sl_clone_vfork, spawn.c), B shares the agent's memory
//                    until it execs the monitor (see monitor_a).
//   B: setsid (own session: no terminal signals from the agent's), makes the container's stdio
//   (pipes, or a terminal the container opens in its own devpts and sends back), binds the
//   attach socket, starts the container, reports (container pid, own pid) to the agent, waits
//   until the agent holds pidfds for both (so no pid can be reused under it), then execs the
//   small monitor binary, which stays the container's parent, writes its logs, serves attach
//   clients and records its exit.
#include "sl_child.h"
#include "include/sl_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

struct sl_monitor_report {
    pid_t container_pid;
    pid_t monitor_pid;
    int step, err;
    char detail[256];
    int oom_score_adj_refused, oom_score_adj_applied;
};

static void write_report(int fd, const struct sl_monitor_report *r) {
    ssize_t w;
    do { w = write(fd, r, sizeof *r); } while (w < 0 && errno == EINTR);
}

static void itoa_into(char *buf, long v) {
    char rev[24];
    int n = 0, neg = v < 0;
    unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
    do { rev[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    int i = 0;
    if (neg) buf[i++] = '-';
    while (n) buf[i++] = rev[--n];
    buf[i] = 0;
}

/// B's failure before the container runs: reported, then B exits.
__attribute__((noreturn)) static void monitor_fail(int report, int step, int err, const char *detail) {
    struct sl_monitor_report r;
    memset(&r, 0, sizeof r);
    r.step = step;
    r.err = err;
    if (detail) {
        size_t n = strlen(detail);
        if (n >= sizeof r.detail) n = sizeof r.detail - 1;
        memcpy(r.detail, detail, n);
    }
    write_report(report, &r);
    _exit(127);
}

/// B: runs in the grandchild, on its own stack in the agent's memory (monitor_a); never returns.
__attribute__((noreturn)) static void monitor_process(const struct sl_spawn_config *cfg, const char *monitor_path,
                                                      const char *const *monitor_argv,
                                                      const struct sl_monitor_stdio *stdio, int report, int go) {
    struct sl_monitor_report r;
    memset(&r, 0, sizeof r);
    r.monitor_pid = (pid_t)syscall(SYS_getpid);
    setsid();
    // The container's stdio. Without a terminal: stdout and stderr pipes, stdin a pipe or
    // /dev/null (never our own fd 0: that is whatever the agent was started with). With one:
    // the container opens it (spawn.c) and sends us the master over `console`.
    int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 }, console[2] = { -1, -1 };
    struct sl_spawn_config local = *cfg;
    if (stdio->tty) {
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console) < 0)
            monitor_fail(report, SL_STEP_CONSOLE_SOCKET, errno, "socketpair");
        local.tty = 1;
        local.console_socket = console[1];
        local.tty_rows = stdio->rows;
        local.tty_cols = stdio->cols;
        local.stdin_fd = local.stdout_fd = local.stderr_fd = -1;
    } else {
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
            monitor_fail(report, SL_STEP_PIPE, errno, "pipe2");
        if (stdio->stdin_pipe) {
            if (pipe2(in, O_CLOEXEC) < 0) monitor_fail(report, SL_STEP_PIPE, errno, "pipe2 (stdin)");
        } else {
            in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (in[0] < 0) monitor_fail(report, SL_STEP_STDIO, errno, "/dev/null");
        }
        local.tty = 0;
        local.stdin_fd = in[0];
        local.stdout_fd = out[1];
        local.stderr_fd = err[1];
    }
    // Listening before the agent hears of the container: an attach right after the start works.
    int listener = -1;
    if (stdio->attach_dir) {
        listener = sl_attach_listen(stdio->attach_dir);
        if (listener < 0) monitor_fail(report, SL_STEP_ATTACH_SOCKET, errno, stdio->attach_dir);
    }
    struct sl_spawn_result res;
    int rc = sl_spawn(&local, &res);
    int master = -1;
    if (stdio->tty) {
        close(console[1]);
        if (rc == 0) {
            master = sl_receive_fd(console[0]);
            if (master < 0) {
                kill(res.pid, SIGKILL);
                monitor_fail(report, SL_STEP_CONSOLE_SOCKET, errno, "receive the terminal");
            }
        }
        close(console[0]);
    } else {
        close(out[1]);
        close(err[1]);
        close(in[0]);
    }
    if (rc != 0) {
        r.step = res.step;
        r.err = res.err;
        memcpy(r.detail, res.detail, sizeof r.detail);
        write_report(report, &r);
        _exit(127);
    }
    r.container_pid = res.pid;
    r.oom_score_adj_refused = res.oom_score_adj_refused;
    r.oom_score_adj_applied = res.oom_score_adj_applied;
    write_report(report, &r);
    close(report);
    char c;
    while (read(go, &c, 1) < 0 && errno == EINTR) {}
    close(go);

    // The monitor's fds: 0-2 /dev/null, 3 stdout pipe or terminal master, 4 stderr pipe, 5 the
    // container's pidfd, 6 the stdin pipe's write end, 7 the attach socket. Move everything
    // above 7 first so the dup2s below cannot clobber one another.
    int o = fcntl(stdio->tty ? master : out[0], F_DUPFD_CLOEXEC, 10);
    int e = stdio->tty ? -1 : fcntl(err[0], F_DUPFD_CLOEXEC, 10);
    int p = res.pidfd >= 0 ? fcntl(res.pidfd, F_DUPFD_CLOEXEC, 10) : -1;
    int w = in[1] >= 0 ? fcntl(in[1], F_DUPFD_CLOEXEC, 10) : -1;
    int l = listener >= 0 ? fcntl(listener, F_DUPFD_CLOEXEC, 10) : -1;
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (o < 0 || (!stdio->tty && e < 0) || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
        dup2(null, 2) < 0 || dup2(o, 3) < 0 || (e >= 0 && dup2(e, 4) < 0) || (p >= 0 && dup2(p, 5) < 0) ||
        (in[1] >= 0 && (w < 0 || dup2(w, 6) < 0)) || (listener >= 0 && (l < 0 || dup2(l, 7) < 0))) {
        kill(res.pid, SIGKILL);
        _exit(127);
    }
    // A slot left unused (no stderr pipe with a terminal, no stdin, no socket) must not pass
    // on whatever we inherited there.
    if (e < 0) (void)fcntl(4, F_SETFD, FD_CLOEXEC);
    if (p < 0) (void)fcntl(5, F_SETFD, FD_CLOEXEC);
    if (w < 0) (void)fcntl(6, F_SETFD, FD_CLOEXEC);
    if (l < 0) (void)fcntl(7, F_SETFD, FD_CLOEXEC);
    syscall(SYS_close_range, 8, ~0U, CLOSE_RANGE_CLOEXEC);

    const char *argv[64];
    int n = 0;
    for (; monitor_argv[n] && n < 62; n++) argv[n] = monitor_argv[n];
    char pid[24];
    itoa_into(pid, res.pid);
    argv[n++] = pid;
    argv[n] = NULL;
    char *const envp[] = { NULL };
    // The agent blocked every signal around the clone; the monitor sets its own dispositions.
    execve(monitor_path, (char *const *)argv, envp);
    kill(res.pid, SIGKILL); // no monitor: do not leave an unwatched container behind
    _exit(127);
}

/// What A and B need, on the agent's stack (both share the agent's memory; the agent's thread
/// stays in sl_spawn_monitored until B has exec'd or exited).
struct monitor_a_args {
    const struct sl_spawn_config *cfg;
    const char *monitor_path;
    const char *const *monitor_argv;
    const struct sl_monitor_stdio *stdio;
    const int *report, *go;
    /// The top of B's stack (sl_child_stack_map by the agent's thread, freed once B is gone).
    char *b_stack_top;
    /// B's tid while B runs on our memory: the kernel writes it at the clone
    /// (CLONE_PARENT_SETTID) and clears it, waking futex waiters, when B execs or exits
    /// (CLONE_CHILD_CLEARTID), as it does for a thread that pthread_join waits for.
    volatile pid_t *b_tid;
};

static int monitor_b(void *p) {
    const struct monitor_a_args *args = p;
    monitor_process(args->cfg, args->monitor_path, args->monitor_argv, args->stdio, args->report[1], args->go[0]);
}

/// A: starts B and exits, so that B is reparented away from the agent. A is a vfork-style
/// child (sl_clone_vfork: the agent's thread sleeps until A exits).
///
/// B shares the agent's memory too (CLONE_VM without CLONE_VFORK): a fork copied the page
/// tables of the whole agent (100+ MiB with the server in the same process), and every page
/// either side wrote while B lived was copied with a TLB shootdown to every CPU; with 100 pods
/// starting in `swiftlet server`, 15% of all CPU time went to those copy-on-write faults. B
/// obeys the vfork child's rules (its own stack, no heap, only async-signal-safe calls) for
/// longer: from here until it execs the monitor. One thing differs: the agent's thread runs
/// beside it (it waits for B's report and sends `go`), and B inherits that thread's TLS, so
/// errno is shared. The thread reads errno only right after its own failed calls, and B
/// likewise; both only fail on errors (EMFILE, a dead peer).
static int monitor_a(void *p) {
    const struct monitor_a_args *args = p;
    close(args->report[0]);
    close(args->go[1]);
    pid_t b = clone(monitor_b, args->b_stack_top, CLONE_VM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD,
                    (void *)args, args->b_tid, NULL, args->b_tid);
    if (b < 0) {
        struct sl_monitor_report r;
        memset(&r, 0, sizeof r);
        r.step = SL_STEP_CLONE;
        r.err = errno;
        write_report(args->report[1], &r);
    }
    _exit(0);
}

/// Waits until B no longer runs on our memory (it exec'd the monitor or exited).
static void await_b(volatile pid_t *b_tid) {
    pid_t tid;
    while ((tid = __atomic_load_n(b_tid, __ATOMIC_ACQUIRE)) != 0) {
        // Not FUTEX_PRIVATE: the kernel's wake at exec or exit is a shared-futex wake.
        syscall(SYS_futex, b_tid, FUTEX_WAIT, tid, NULL, NULL, 0);
    }
}

/// The agent's side once A is gone: B's report, pidfds for B and the container, then `go`.
static int monitor_handshake(int report, int go, struct sl_monitored_result *res) {
    struct sl_monitor_report r;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(report, (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(report);
    if (got != sizeof r) {
        close(go);
        res->step = SL_STEP_SYNC;
        res->err = EPROTO;
        memcpy(res->detail, "monitor process exited before reporting", 41);
        return -1;
    }
    if (r.step != 0) {
        close(go);
        res->step = r.step;
        res->err = r.err;
        r.detail[sizeof r.detail - 1] = 0;
        memcpy(res->detail, r.detail, sizeof res->detail);
        return -1;
    }
    res->container_pid = r.container_pid;
    res->monitor_pid = r.monitor_pid;
    res->oom_score_adj_refused = r.oom_score_adj_refused;
    res->oom_score_adj_applied = r.oom_score_adj_applied;
    // Both are alive (B waits on `go`; the container is B's unreaped child at worst), so the
    // pids still name them.
    res->container_pidfd = (int)syscall(SYS_pidfd_open, r.container_pid, 0);
    int container_errno = errno;
    res->monitor_pidfd = (int)syscall(SYS_pidfd_open, r.monitor_pid, 0);
    int monitor_errno = errno;
    if (res->container_pidfd < 0 || res->monitor_pidfd < 0) {
        // Without both handles the container could be neither stopped nor watched (EMFILE is
        // the usual cause): take it down now rather than leave it unmanageable.
        kill(r.container_pid, SIGKILL);
        kill(r.monitor_pid, SIGKILL);
        close(go);
        res->step = SL_STEP_SYNC;
        res->err = res->container_pidfd < 0 ? container_errno : monitor_errno;
        if (res->container_pidfd >= 0) close(res->container_pidfd);
        if (res->monitor_pidfd >= 0) close(res->monitor_pidfd);
        res->container_pidfd = res->monitor_pidfd = -1;
        memcpy(res->detail, "pidfd_open", 11);
        return -1;
    }
    // "Go" is a byte, not just EOF: a B started meanwhile by another thread holds a copy of
    // this pipe (its fd table is a copy of ours) until it execs, and it waits for its own go.
    char go_byte = 1;
    (void)!write(go, &go_byte, 1);
    close(go);
    return 0;
}

int sl_spawn_monitored(const struct sl_spawn_config *cfg, const char *monitor_path,
                       const char *const *monitor_argv, const struct sl_monitor_stdio *stdio,
                       struct sl_monitored_result *res) {
    memset(res, 0, sizeof *res);
    res->container_pidfd = res->monitor_pidfd = -1;
    int report[2], go[2];
    if (pipe2(report, O_CLOEXEC) < 0) {
        res->step = SL_STEP_PIPE;
        res->err = errno;
        return -1;
    }
    if (pipe2(go, O_CLOEXEC) < 0) {
        res->step = SL_STEP_PIPE;
        res->err = errno;
        close(report[0]);
        close(report[1]);
        return -1;
    }
    char *b_stack = sl_child_stack_map();
    if (!b_stack) {
        res->step = SL_STEP_CLONE;
        res->err = errno;
        close(report[0]); close(report[1]); close(go[0]); close(go[1]);
        return -1;
    }
    volatile pid_t b_tid = 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int unused;
    struct monitor_a_args args = { cfg, monitor_path, monitor_argv, stdio, report, go, b_stack, &b_tid };
    pid_t a = sl_clone_vfork(0, &unused, monitor_a, &args);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    close(go[0]);
    int rc;
    if (a < 0) {
        close(report[0]);
        close(go[1]);
        res->step = SL_STEP_CLONE;
        res->err = clone_errno;
        rc = -1;
    } else {
        if (unused >= 0) close(unused);
        while (waitpid(a, NULL, 0) < 0 && errno == EINTR) {}
        rc = monitor_handshake(report[0], go[1], res);
    }
    // B reads `args` and runs on b_stack until it execs or exits (after `go`, or killed).
    await_b(&b_tid);
    sl_child_stack_free(b_stack);
    return rc;
}

struct pause_a_args {
    const char *pause_path;
    const char *const *pause_argv;
    const int *report;
};

/// sl_pause_create's A: forks B into a new PID namespace, reports B's pid and exits, so that B
/// is reparented away from the agent. A shares the agent's memory (sl_clone_vfork).
static int pause_a(void *p) {
    const struct pause_a_args *args = p;
    const int *report = args->report;
    close(report[0]);
    int unused;
    pid_t b = sl_clone_fork(CLONE_NEWPID, &unused);
    if (b == 0) {
        // PID 1 of the pod's PID namespace. Tell our pid (as the host sees it) through the
        // pipe's EOF: the parent reads it from A instead. Exec the pause program.
        sl_reset_signals();
        setsid();
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) { dup2(null, 0); dup2(null, 1); dup2(null, 2); }
        syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
        char *const envp[] = { NULL };
        execve(args->pause_path, (char *const *)args->pause_argv, envp);
        struct sl_child_msg msg;
        memset(&msg, 0, sizeof msg);
        msg.step = SL_STEP_EXEC;
        msg.err = errno;
        memcpy(msg.detail, "pause", 6);
        ssize_t w = write(report[1], &msg, sizeof msg);
        (void)w;
        _exit(127);
    }
    struct sl_child_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.step = b < 0 ? SL_STEP_CLONE : 0;
    msg.err = b < 0 ? errno : (int)b;
    ssize_t w = write(report[1], &msg, sizeof msg);
    (void)w;
    _exit(0);
}

int sl_pause_create(const char *pause_path, const char *const *pause_argv, pid_t *pid, int *pidfd, int *nsfd,
                    struct sl_spawn_result *res) {
    memset(res, 0, sizeof *res);
    *pid = -1;
    *pidfd = -1;
    *nsfd = -1;
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) {
        sl_fill_error(res, SL_STEP_PIPE, errno, "pipe2");
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int unused;
    struct pause_a_args args = { pause_path, pause_argv, report };
    pid_t a = sl_clone_vfork(0, &unused, pause_a, &args);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(report[1]);
    if (a < 0) {
        close(report[0]);
        sl_fill_error(res, SL_STEP_CLONE, clone_errno, "clone");
        return -1;
    }
    if (unused >= 0) close(unused);
    while (waitpid(a, NULL, 0) < 0 && errno == EINTR) {}
    struct sl_child_msg msg;
    int got = sl_read_child_msg(report[0], &msg);
    if (got != (int)sizeof msg || msg.step != 0) {
        close(report[0]);
        if (got == (int)sizeof msg) sl_fill_error(res, msg.step, msg.err, "pause");
        else sl_fill_error(res, SL_STEP_SYNC, EPROTO, "pause process");
        return -1;
    }
    pid_t b = (pid_t)msg.err;
    // B still holds the pipe until it execs (CLOEXEC): EOF means the exec happened, a message
    // that it failed.
    got = sl_read_child_msg(report[0], &msg);
    close(report[0]);
    if (got != 0) {
        if (got == (int)sizeof msg) sl_fill_error(res, msg.step, msg.err, pause_path);
        else sl_fill_error(res, SL_STEP_SYNC, EPROTO, "pause process");
        return -1;
    }
    *pid = b;
    *pidfd = (int)syscall(SYS_pidfd_open, b, 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)b);
    *nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (*pidfd < 0 || *nsfd < 0) {
        int e = errno;
        kill(b, SIGKILL);
        if (*pidfd >= 0) close(*pidfd);
        if (*nsfd >= 0) close(*nsfd);
        sl_fill_error(res, SL_STEP_SETNS, e, path);
        return -1;
    }
    return 0;
}
