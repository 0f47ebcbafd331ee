// clone → (child) namespaces, cgroups, mounts, pivot_root, privileges, seccomp → execve.
//
// The order in the child matters and follows runc/crun:
//  1. signals back to default, stdio, oom_score_adj, join cgroups (so every later allocation
//     of the container is charged to it), a cgroup namespace rooted there (v2), setns into the
//     pod's namespaces;
//  2. make every mount private, mount the rootfs, apply the mount list inside it, pivot_root,
//     mask and read-only paths (all of this needs CAP_SYS_ADMIN and mount(2), so it comes
//     before capabilities drop and before seccomp, which blocks mount);
//  3. rlimits, working directory;
//  4. seccomp before the capability drop when no_new_privs is off (loading a filter without
//     no_new_privs needs CAP_SYS_ADMIN), after it otherwise (runc does the same);
//  5. mark every fd ≥ 3 close-on-exec (the error pipe included: EOF tells the parent exec
//     succeeded), execve, searching the container's PATH for a bare command name.
#include "sl_child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// clone3's argument block (linux/sched.h; spelled out to avoid clashing with <sched.h>).
struct sl_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    uint64_t set_tid, set_tid_size, cgroup;
};

static const char *const step_names[] = {
    [SL_STEP_NONE] = "none", [SL_STEP_CLONE] = "clone", [SL_STEP_STDIO] = "dup2 stdio",
    [SL_STEP_CGROUP] = "join cgroup", [SL_STEP_SETNS] = "setns", [SL_STEP_SETHOSTNAME] = "sethostname",
    [SL_STEP_MOUNT_PRIVATE] = "make mounts private", [SL_STEP_MOUNT_ROOTFS] = "mount rootfs",
    [SL_STEP_OPEN_ROOT] = "open rootfs", [SL_STEP_MKDIR_TARGET] = "create mount target",
    [SL_STEP_MOUNT] = "mount", [SL_STEP_REMOUNT_RO] = "remount", [SL_STEP_MKNOD] = "mknod",
    [SL_STEP_SYMLINK] = "symlink", [SL_STEP_PIVOT_ROOT] = "pivot_root",
    [SL_STEP_UMOUNT_OLDROOT] = "umount old root", [SL_STEP_MASK_PATH] = "mask path",
    [SL_STEP_READONLY_PATH] = "read-only path", [SL_STEP_READONLY_ROOT] = "read-only rootfs",
    [SL_STEP_RLIMIT] = "setrlimit", [SL_STEP_CAPBSET] = "drop bounding capabilities",
    [SL_STEP_SETGROUPS] = "setgroups", [SL_STEP_SETGID] = "setgid", [SL_STEP_SETUID] = "setuid",
    [SL_STEP_CAPSET] = "capset", [SL_STEP_AMBIENT] = "ambient capabilities", [SL_STEP_CHDIR] = "chdir",
    [SL_STEP_NO_NEW_PRIVS] = "no_new_privs", [SL_STEP_SECCOMP] = "seccomp",
    [SL_STEP_CLOSE_FDS] = "close fds", [SL_STEP_EXEC] = "execve", [SL_STEP_OOM_SCORE] = "oom_score_adj",
    [SL_STEP_PIPE] = "pipe", [SL_STEP_SYNC] = "sync with parent",
    [SL_STEP_CGROUP_NS] = "unshare cgroup namespace", [SL_STEP_PTY] = "open a terminal",
    [SL_STEP_CONSOLE_SOCKET] = "send the terminal to the agent",
    [SL_STEP_ATTACH_SOCKET] = "create the attach socket",
};

const char *sl_step_name(int step) {
    if (step < 0 || (size_t)step >= sizeof step_names / sizeof step_names[0] || !step_names[step])
        return "unknown step";
    return step_names[step];
}

static void send_msg(int errpipe, int step, int err, const char *detail) {
    struct sl_child_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.step = step;
    msg.err = err;
    if (detail) {
        size_t n = strlen(detail);
        if (n >= sizeof msg.detail) n = sizeof msg.detail - 1;
        memcpy(msg.detail, detail, n);
    }
    ssize_t w;
    do { w = write(errpipe, &msg, sizeof msg); } while (w < 0 && errno == EINTR);
}

void sl_child_fail(int errpipe, int step, int err, const char *detail) {
    send_msg(errpipe, step, err, detail);
    _exit(127);
}

void sl_child_notice(int errpipe, int notice, int value) {
    send_msg(errpipe, notice, value, NULL);
}

static void write_file(const char *path, const char *text, int errpipe, int step) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) sl_child_fail(errpipe, step, errno, path);
    size_t n = strlen(text);
    if (write(fd, text, n) != (ssize_t)n) sl_child_fail(errpipe, step, errno, path);
    close(fd);
}

/// Signal dispositions and the mask are inherited across clone and (for SIG_IGN and the mask)
/// across execve: a container must start with none of the agent's.
void sl_reset_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)sigaction(sig, &sa, NULL); // glibc-internal signals answer EINVAL: fine
    }
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

void sl_setup_stdio(const struct sl_spawn_config *cfg, int errpipe) {
    int fds[3] = { cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd };
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 0) continue;
        if (fds[i] == i) {
            if (fcntl(i, F_SETFD, 0) < 0) sl_child_fail(errpipe, SL_STEP_STDIO, errno, "fcntl");
        } else if (dup2(fds[i], i) < 0) {
            sl_child_fail(errpipe, SL_STEP_STDIO, errno, "dup2");
        }
    }
}

/// execve, again while it answers ETXTBSY, for at most about 100 ms. The file is open for
/// writing somewhere: a binary just written (an image layer unpacked, a test's rootfs copied)
/// whose writer has closed it, but whose descriptor a child cloned meanwhile by another thread
/// still holds until that child's own execve closes it (close-on-exec). That lasts
/// microseconds to milliseconds; the same race is Go's golang/go#22315. Async-signal-safe.
static int sl_execve(const char *file, char *const *argv, char *const *envp) {
    for (int attempt = 0; attempt < 100; attempt++) {
        execve(file, argv, envp);
        if (errno != ETXTBSY) break;
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 1000000 };
        nanosleep(&pause, NULL);
    }
    return -1;
}

void sl_exec_command(const struct sl_spawn_config *cfg, int errpipe) {
    const char *cmd = cfg->argv[0];
    char *const *argv = (char *const *)cfg->argv;
    char *const *envp = (char *const *)cfg->envp;
    if (strchr(cmd, '/')) {
        sl_execve(cmd, argv, envp);
        sl_child_fail(errpipe, SL_STEP_EXEC, errno, cmd);
    }
    // Like runc: a bare name is looked up in the container's own PATH, not ours.
    const char *path = cfg->path_env ? cfg->path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    int saw_eacces = 0;
    char buf[PATH_MAX];
    size_t clen = strlen(cmd);
    for (const char *p = path;;) {
        const char *end = strchr(p, ':');
        size_t dlen = end ? (size_t)(end - p) : strlen(p);
        if (dlen + clen + 2 < sizeof buf) {
            memcpy(buf, p, dlen);
            size_t n = dlen;
            if (n == 0) buf[n++] = '.';
            buf[n++] = '/';
            memcpy(buf + n, cmd, clen + 1);
            sl_execve(buf, argv, envp);
            if (errno == EACCES) saw_eacces = 1;
            else if (errno != ENOENT && errno != ENOTDIR) sl_child_fail(errpipe, SL_STEP_EXEC, errno, buf);
        }
        if (!end) break;
        p = end + 1;
    }
    sl_child_fail(errpipe, SL_STEP_EXEC, saw_eacces ? EACCES : ENOENT, cmd);
}

/// Writes `value` to /proc/self/oom_score_adj; 0, or -1 with errno.
static int write_oom_score_adj(int value) {
    char num[16];
    int neg = value < 0, n = 0;
    unsigned u = neg ? (unsigned)(-value) : (unsigned)value;
    char rev[12];
    int r = 0;
    do { rev[r++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) num[n++] = '-';
    while (r) num[n++] = rev[--r];
    num[n] = 0;
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t w = write(fd, num, (size_t)n);
    int err = errno;
    close(fd);
    errno = err;
    return w == (ssize_t)n ? 0 : -1;
}

/// kubelet's per-QoS oom_score_adj (Guaranteed -997) is a preference, not a requirement. The
/// kernel refuses a value below the oom_score_adj_min this process inherited unless it holds
/// CAP_SYS_RESOURCE in the initial user namespace (EACCES: agents in containers, some VMs).
/// Then the container gets the lowest value the kernel accepts: acceptance is monotonic
/// (v >= min), the wanted value is refused and the inherited one accepted (it is >= min), so
/// a bisection between them finds it in at most 11 writes. The parent is told, to log it
/// (containerd's restrict_oom_score_adj clamps to its own value for the same reason).
static void apply_oom_score_adj(int wanted, int errpipe) {
    if (write_oom_score_adj(wanted) == 0) return;
    if (errno != EACCES) sl_child_fail(errpipe, SL_STEP_OOM_SCORE, errno, "/proc/self/oom_score_adj");
    char buf[16];
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (got <= 0) sl_child_fail(errpipe, SL_STEP_OOM_SCORE, got < 0 ? errno : EIO, "/proc/self/oom_score_adj");
    close(fd);
    buf[got] = 0;
    int current = 0, neg = buf[0] == '-';
    for (const char *c = buf + neg; *c >= '0' && *c <= '9'; c++) current = current * 10 + (*c - '0');
    if (neg) current = -current;
    // Invariant: `low` is refused, `high` is accepted and is the value now in effect (every
    // accepted write moves `high` down to it).
    int low = wanted, high = current;
    while (high - low > 1) {
        int mid = low + (high - low) / 2;
        if (write_oom_score_adj(mid) == 0) high = mid;
        else if (errno == EACCES) low = mid;
        else sl_child_fail(errpipe, SL_STEP_OOM_SCORE, errno, "/proc/self/oom_score_adj");
    }
    sl_child_notice(errpipe, SL_NOTICE_OOM_SCORE_ADJ, high);
}

__attribute__((noreturn)) static void child_main(const struct sl_spawn_config *cfg, int errpipe) {
    sl_reset_signals();
    sl_setup_stdio(cfg, errpipe);
    if (cfg->set_oom_score_adj) apply_oom_score_adj(cfg->oom_score_adj, errpipe);
    for (int i = 0; i < cfg->ncgroup_procs; i++)
        write_file(cfg->cgroup_procs[i], "0", errpipe, SL_STEP_CGROUP);
    // After joining: the namespace's root is the group we are in at unshare time, so the
    // container's /proc/self/cgroup says "0::/" and a cgroup2 mounted later shows only its
    // own group (runc unshares it at the same point, once its cgroups are set).
    if (cfg->cgroup_namespace && unshare(CLONE_NEWCGROUP) < 0)
        sl_child_fail(errpipe, SL_STEP_CGROUP_NS, errno, "CLONE_NEWCGROUP");
    for (int i = 0; i < cfg->njoin; i++)
        if (setns(cfg->join_fds[i], cfg->join_types[i]) < 0)
            sl_child_fail(errpipe, SL_STEP_SETNS, errno, "pod namespace");
    if ((cfg->clone_flags & CLONE_NEWUTS) && cfg->hostname &&
        sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
        sl_child_fail(errpipe, SL_STEP_SETHOSTNAME, errno, cfg->hostname);

    // Nothing we mount may propagate back to the host, and host unmounts need not reach us.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        sl_child_fail(errpipe, SL_STEP_MOUNT_PRIVATE, errno, "/");
    int rc = cfg->overlay_data
        ? mount("overlay", cfg->rootfs, "overlay", 0, cfg->overlay_data)
        : mount(cfg->rootfs, cfg->rootfs, NULL, MS_BIND | MS_REC, NULL); // pivot_root needs a mount point
    if (rc < 0) sl_child_fail(errpipe, SL_STEP_MOUNT_ROOTFS, errno, cfg->rootfs);
    int rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) sl_child_fail(errpipe, SL_STEP_OPEN_ROOT, errno, cfg->rootfs);
    // Device nodes are created with their exact modes; the process gets the usual 022 below.
    umask(0);
    sl_apply_mounts(cfg, rootfd, errpipe);
    close(rootfd);
    sl_pivot_root(cfg->rootfs, errpipe);
    sl_mask_paths(cfg, errpipe);
    umask(022);
    if (cfg->tty) {
        // Inside the root: the terminal is the container's devpts' (runc's console socket).
        sl_open_terminal(cfg->tty_rows, cfg->tty_cols, cfg->console_socket, errpipe);
        if (cfg->uid != 0) sl_give_stdio_to(cfg->uid);
    }

    sl_finish_and_exec(cfg, errpipe);
}

void sl_finish_and_exec(const struct sl_spawn_config *cfg, int errpipe) {
    for (int i = 0; i < cfg->nrlimits; i++) {
        struct rlimit rl = { (rlim_t)cfg->rlimits[i].soft, (rlim_t)cfg->rlimits[i].hard };
        if (setrlimit(cfg->rlimits[i].resource, &rl) < 0)
            sl_child_fail(errpipe, SL_STEP_RLIMIT, errno, "setrlimit");
    }
    if (cfg->cwd && cfg->cwd[0]) {
        int fd = sl_ensure_in_root(AT_FDCWD, cfg->cwd, 0); // root is "/" now; creates a missing cwd as runc does
        if (fd >= 0) close(fd);
        if (chdir(cfg->cwd) < 0) sl_child_fail(errpipe, SL_STEP_CHDIR, errno, cfg->cwd);
    }
    if (!cfg->no_new_privs) sl_load_seccomp(cfg, errpipe);
    sl_drop_privileges(cfg, errpipe);
    if (cfg->no_new_privs) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            sl_child_fail(errpipe, SL_STEP_NO_NEW_PRIVS, errno, "PR_SET_NO_NEW_PRIVS");
        sl_load_seccomp(cfg, errpipe);
    }
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        sl_child_fail(errpipe, SL_STEP_CLOSE_FDS, errno, "close_range");
    sl_exec_command(cfg, errpipe);
    _exit(127);
}

/// Fork-like clone (no new stack: the child continues on a copy of ours) into new namespaces,
/// returning a pidfd too when clone3 is available.
pid_t sl_clone_fork(int flags, int *pidfd) {
    struct sl_clone_args args;
    memset(&args, 0, sizeof args);
    *pidfd = -1;
    args.flags = (uint64_t)(unsigned)flags | CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid < 0 && errno == ENOSYS) {
        *pidfd = -1;
        pid = syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    }
    return (pid_t)pid;
}

/// A child that shares our memory until it execs (CLONE_VM | CLONE_VFORK, as glibc's
/// posix_spawn starts every child): the kernel copies no page tables and the parent takes no
/// copy-on-write faults afterwards. A fork of the agent copies the page tables of every page it
/// maps (about 100 MiB with the server in the same process) and then faults on each page either
/// side writes; a profile of 100 pods starting in `swiftlet server` spent a fifth of its CPU in
/// clone's copy_page_range and those faults, three times per container (A, B and the container).
///
/// What the child may do: run on the stack given here (never return into the caller's frames),
/// touch no heap (no malloc: another thread may hold its lock), and treat globals as the
/// parent's: it writes only errno, which is the calling thread's, and that thread sleeps until
/// the child is gone. Signal dispositions are copied (no CLONE_SIGHAND), so resetting them in
/// the child leaves ours alone; file descriptors are copied (no CLONE_FILES). The caller blocks
/// signals across the call as for sl_clone_fork.
pid_t sl_clone_vfork(int flags, int *pidfd, int (*fn)(void *), void *arg) {
    char *stack = sl_child_stack_map();
    if (!stack) return -1;
    *pidfd = -1;
    int base = flags | CLONE_VM | CLONE_VFORK | SIGCHLD;
    // CLONE_PIDFD puts the pidfd where glibc's clone passes parent_tid.
    pid_t pid = clone(fn, stack, base | CLONE_PIDFD, arg, pidfd);
    if (pid < 0 && errno == EINVAL) { // a kernel before 5.2: no pidfd
        *pidfd = -1;
        pid = clone(fn, stack, base, arg, NULL);
    }
    int e = errno;
    sl_child_stack_free(stack); // the child has exec'd or exited: its stack is ours again
    errno = e;
    return pid;
}

// The guard page below a child's stack. PATH_MAX buffers and the mount code need a few tens of
// KiB of the stack; untouched pages cost nothing.
#define SL_CHILD_GUARD 4096

char *sl_child_stack_map(void) {
    char *map = mmap(NULL, SL_CHILD_GUARD + SL_CHILD_STACK, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) return NULL;
    (void)mprotect(map, SL_CHILD_GUARD, PROT_NONE);
    return map + SL_CHILD_GUARD + SL_CHILD_STACK;
}

void sl_child_stack_free(char *top) {
    munmap(top - SL_CHILD_STACK - SL_CHILD_GUARD, SL_CHILD_GUARD + SL_CHILD_STACK);
}

int sl_read_child_msg(int fd, struct sl_child_msg *msg) {
    size_t got = 0;
    while (got < sizeof *msg) {
        ssize_t n = read(fd, (char *)msg + got, sizeof *msg - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    return (int)got;
}

void sl_fill_error(struct sl_spawn_result *res, int step, int err, const char *detail) {
    res->step = step;
    res->err = err;
    size_t n = detail ? strlen(detail) : 0;
    if (n >= sizeof res->detail) n = sizeof res->detail - 1;
    if (n) memcpy(res->detail, detail, n);
    res->detail[n] = 0;
}

/// What sl_spawn's child needs, on the parent's stack (the child shares our memory).
struct spawn_child {
    const struct sl_spawn_config *cfg;
    int parent_end, errpipe;
};

static int spawn_child_main(void *arg) {
    const struct spawn_child *child = arg;
    close(child->parent_end);
    child_main(child->cfg, child->errpipe);
}

int sl_spawn(const struct sl_spawn_config *cfg, struct sl_spawn_result *res) {
    memset(res, 0, sizeof *res);
    res->pid = -1;
    res->pidfd = -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) { sl_fill_error(res, SL_STEP_PIPE, errno, "pipe2"); return -1; }
    // Block every signal across clone so no handler of ours runs in the child before
    // reset_signals; the parent restores its mask right after.
    // A shared PID namespace is entered for our children only (pid_for_children) and only on
    // this thread; we return to our own right after the clone.
    int own_pid_ns = -1;
    if (cfg->pid_ns_fd >= 0) {
        own_pid_ns = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
        if (own_pid_ns < 0 || setns(cfg->pid_ns_fd, CLONE_NEWPID) < 0) {
            int e = errno;
            if (own_pid_ns >= 0) close(own_pid_ns);
            close(p[0]);
            close(p[1]);
            sl_fill_error(res, SL_STEP_SETNS, e, "pod PID namespace");
            return -1;
        }
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd;
    struct spawn_child child = { cfg, p[0], p[1] };
    pid_t pid = sl_clone_vfork(cfg->clone_flags, &pidfd, spawn_child_main, &child);
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (own_pid_ns >= 0) {
        if (setns(own_pid_ns, CLONE_NEWPID) < 0) abort(); // never leave this thread's children in a pod
        close(own_pid_ns);
    }
    close(p[1]);
    return sl_await_exec(p[0], pid, pidfd, clone_errno, res);
}

int sl_await_exec(int errpipe, pid_t pid, int pidfd, int clone_errno, struct sl_spawn_result *res) {
    if (pid < 0) {
        close(errpipe);
        sl_fill_error(res, SL_STEP_CLONE, clone_errno, "clone");
        return -1;
    }
    struct sl_child_msg msg;
    int got;
    // Notices first (the child goes on after each), then EOF or a failure.
    while ((got = sl_read_child_msg(errpipe, &msg)) == (int)sizeof msg && msg.step < 0) {
        if (msg.step == SL_NOTICE_OOM_SCORE_ADJ) {
            res->oom_score_adj_refused = 1;
            res->oom_score_adj_applied = msg.err;
        }
    }
    close(errpipe);
    if (got == 0) { // EOF: the close-on-exec pipe closed, execve happened
        res->pid = pid;
        res->pidfd = pidfd;
        return 0;
    }
    // The child failed before execve and has exited (or is exiting) with 127: reap it.
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    if (pidfd >= 0) close(pidfd);
    if (got != (int)sizeof msg) sl_fill_error(res, SL_STEP_SYNC, EPROTO, "short message from child");
    else { msg.detail[sizeof msg.detail - 1] = 0; sl_fill_error(res, msg.step, msg.err, msg.detail); }
    return -1;
}

/// The namespaces are made by this thread, not by a child: unshare moves only the calling
/// thread into new network, IPC and UTS namespaces (none of the three needs a single-threaded
/// process), we configure and open them, and setns takes the thread back where it was. A
/// holder child, as this was before, is a fork of the agent: a copy of its page tables and
/// copy-on-write faults after it, the largest single cost in a profile of 100 pods starting
/// under `swiftlet server`. Nothing here awaits, so no other work runs on this thread while it
/// is away; one that cannot return to its own namespaces aborts rather than run on in a pod's.
/// Leaving and rejoining an IPC namespace detaches this thread from the process's System V
/// semaphore undo list (the kernel's exit_sem); swiftlet has none.
int sl_sandbox_create(int clone_flags, const char *hostname, int out_fds[3], struct sl_spawn_result *res) {
    memset(res, 0, sizeof *res);
    out_fds[0] = out_fds[1] = out_fds[2] = -1;
    static const struct { int flag; const char *name; } kinds[3] = {
        { CLONE_NEWNET, "net" }, { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" } };
    // This thread's namespace of each kind: ours now, the pod's after unshare.
    char paths[3][32];
    int own[3] = { -1, -1, -1 };
    int flags = 0;
    for (int i = 0; i < 3; i++) {
        strcpy(paths[i], "/proc/thread-self/ns/");
        strcat(paths[i], kinds[i].name);
    }
    for (int i = 0; i < 3; i++) {
        if (!(clone_flags & kinds[i].flag)) continue;
        const char *path = paths[i];
        own[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (own[i] < 0) {
            sl_fill_error(res, SL_STEP_SETNS, errno, path);
            for (int j = 0; j < i; j++) if (own[j] >= 0) close(own[j]);
            return -1;
        }
        flags |= kinds[i].flag;
    }
    int ok = 1;
    if (unshare(flags) < 0) {
        sl_fill_error(res, SL_STEP_CLONE, errno, "unshare");
        ok = 0;
    }
    if (ok && (flags & CLONE_NEWUTS) && hostname && sethostname(hostname, strlen(hostname)) < 0) {
        sl_fill_error(res, SL_STEP_SETHOSTNAME, errno, hostname);
        ok = 0;
    }
    if (ok && (flags & CLONE_NEWNET)) {
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, "lo", 3);
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
            sl_fill_error(res, SL_STEP_SETNS, errno, "lo");
            ok = 0;
        } else {
            ifr.ifr_flags |= IFF_UP;
            if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { sl_fill_error(res, SL_STEP_SETNS, errno, "lo up"); ok = 0; }
        }
        if (s >= 0) close(s);
    }
    for (int i = 0; i < 3 && ok; i++) {
        if (own[i] < 0) continue;
        out_fds[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
        if (out_fds[i] < 0) { sl_fill_error(res, SL_STEP_SETNS, errno, paths[i]); ok = 0; }
    }
    // Back to our own namespaces (also after a failed unshare: a partial one is not possible,
    // but setns to where we are is harmless).
    for (int i = 0; i < 3; i++) {
        if (own[i] < 0) continue;
        if (setns(own[i], kinds[i].flag) < 0) abort();
        close(own[i]);
    }
    if (!ok) {
        for (int i = 0; i < 3; i++) if (out_fds[i] >= 0) { close(out_fds[i]); out_fds[i] = -1; }
        return -1;
    }
    return 0;
}
