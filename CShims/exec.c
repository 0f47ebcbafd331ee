// A process inside a running container (runc's `exec`): exec probes, `kubectl exec`, /run.
//
// Process tree, and why:
//   agent ──clone──▶ E ──fork (after setns)──▶ P ──execve──▶ the command
//   E joins the container's cgroups (their paths are the host's: the container's mount
//   namespace has none of them) and then all of the container's namespaces at once through
//   its pidfd. A PID namespace applies to children only, so E forks P, which is inside it.
//   E stays outside: our child, so a pidfd and waitpid work on it, and killing it (a probe's
//   timeout, a client gone) kills P too (P's parent-death signal is SIGKILL).
//   E closes every fd it inherited as soon as P exists: a clone without execve keeps copies
//   of all of the agent's fds, and E lives as long as P. Holding the write end of P's stdin
//   pipe would hide the EOF the client sends; holding a client's socket would keep a closed
//   connection open.
//   E ends as P ended: the same exit code, or killed by the same signal (re-raised with core
//   dumps off), so the agent learns exactly what happened to the command.
//
// With a terminal, P opens it inside the container (/dev/ptmx of the container's own devpts
// instance, as runc does, so the slave is /dev/pts/N there), makes it its controlling terminal
// in a session of its own and its stdin/stdout/stderr, and sends the master to the agent over a
// socketpair (SCM_RIGHTS) before execve. Everything here is async-signal-safe.
#include "sl_child.h"
#include "include/sl_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/// Sends `fd` over the unix socket `sock` (one byte of data carries the SCM_RIGHTS message).
static void send_fd(int sock, int fd, int errpipe) {
    char byte = 0;
    struct iovec iov = { &byte, 1 };
    union {
        struct cmsghdr header;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n != 1) sl_child_fail(errpipe, SL_STEP_CONSOLE_SOCKET, n < 0 ? errno : EPROTO, "sendmsg");
}

/// The fd P sent, received without waiting (it was queued before P's execve); -1 with errno.
int sl_receive_fd(int sock) {
    char byte;
    struct iovec iov = { &byte, 1 };
    union {
        struct cmsghdr header;
        char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT); } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    }
    errno = EPROTO;
    return -1;
}

/// In P (and in a container started on a terminal, spawn.c): a terminal from the container's
/// devpts becomes stdio and controlling terminal.
void sl_open_terminal(unsigned short rows, unsigned short cols, int console, int errpipe) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "/dev/ptmx");
    struct stat st;
    // /dev/ptmx is the container's to replace: it must be a pty multiplexer (5:2), not a file
    // or device the container chose, since the agent reads and writes what we send it.
    if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
        sl_child_fail(errpipe, SL_STEP_PTY, ENOTTY, "/dev/ptmx is not the pty multiplexer");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "TIOCSPTLCK");
    // TIOCGPTPEER opens the slave through the master (Linux 4.13): no path lookup the
    // container could redirect between unlocking and opening.
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "TIOCGPTPEER");
    if (rows && cols) {
        struct winsize size = { rows, cols, 0, 0 };
        if (ioctl(slave, TIOCSWINSZ, &size) < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "TIOCSWINSZ");
    }
    send_fd(console, master, errpipe);
    close(master);
    if (setsid() < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "setsid");
    if (ioctl(slave, TIOCSCTTY, 0) < 0) sl_child_fail(errpipe, SL_STEP_PTY, errno, "TIOCSCTTY");
    // Above 2 first, so that none of the dup2s below is a no-op that keeps CLOEXEC.
    if (slave <= 2) {
        int moved = fcntl(slave, F_DUPFD_CLOEXEC, 3);
        if (moved < 0) sl_child_fail(errpipe, SL_STEP_STDIO, errno, "fcntl");
        slave = moved;
    }
    for (int fd = 0; fd <= 2; fd++)
        if (dup2(slave, fd) < 0) sl_child_fail(errpipe, SL_STEP_STDIO, errno, "dup2");
    close(slave);
}

/// runc's fixStdioPermissions: stdio other than /dev/null is handed to the process's user, so
/// a non-root process can reopen its own /proc/self/fd/0..2 (and write to its terminal).
void sl_give_stdio_to(uint32_t uid) {
    for (int fd = 0; fd <= 2; fd++) {
        struct stat st;
        if (fstat(fd, &st) < 0) continue;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) continue;
        (void)fchown(fd, uid, (gid_t)-1); // EPERM/EINVAL (e.g. an unmapped owner): as runc, not fatal
    }
}

/// E's end: as P ended. A signal is re-raised (with core dumps off: the core would be E's).
__attribute__((noreturn)) static void end_like(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        struct rlimit none = { 0, 0 };
        (void)setrlimit(RLIMIT_CORE, &none);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        (void)sigaction(sig, &sa, NULL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        (void)sigprocmask(SIG_UNBLOCK, &set, NULL);
        (void)kill((pid_t)syscall(SYS_getpid), sig);
        _exit(128 + sig); // a signal whose default is to ignore it cannot have ended P
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

int sl_exec_in_container(int target_pidfd, const struct sl_spawn_config *cfg, const struct sl_exec_terminal *terminal,
                         int *pty_master, struct sl_spawn_result *res) {
    memset(res, 0, sizeof *res);
    res->pid = -1;
    res->pidfd = -1;
    *pty_master = -1;
    int tty = terminal && terminal->tty;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        sl_fill_error(res, SL_STEP_PIPE, errno, "pipe2");
        return -1;
    }
    int console[2] = { -1, -1 };
    if (tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        sl_fill_error(res, SL_STEP_CONSOLE_SOCKET, e, "socketpair");
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pidfd;
    pid_t pid = sl_clone_fork(0, &pidfd);
    if (pid == 0) {
        // E.
        close(p[0]);
        if (tty) close(console[0]);
        sl_reset_signals();
        if (!tty) sl_setup_stdio(cfg, p[1]);
        for (int i = 0; i < cfg->ncgroup_procs; i++) {
            int fd = open(cfg->cgroup_procs[i], O_WRONLY | O_CLOEXEC);
            if (fd < 0 || write(fd, "0", 1) != 1) sl_child_fail(p[1], SL_STEP_CGROUP, errno, cfg->cgroup_procs[i]);
            close(fd);
        }
        // Every namespace of the target at once; the user namespace is shared already (and
        // joining one's own user namespace is EINVAL). Entering its mount namespace also moves
        // our root and cwd to that namespace's root: the container's. A container that has
        // exited leaves a pidfd whose setns fails with ESRCH.
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
        if (setns(target_pidfd, flags) < 0) sl_child_fail(p[1], SL_STEP_SETNS, errno, "container namespaces");
        int unused;
        pid_t inner = sl_clone_fork(0, &unused);
        if (inner == 0) {
            // P, in the container's PID namespace.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (tty) sl_open_terminal(terminal->rows, terminal->cols, console[1], p[1]);
            if (cfg->uid != 0) sl_give_stdio_to(cfg->uid);
            sl_finish_and_exec(cfg, p[1]);
        }
        if (inner < 0) sl_child_fail(p[1], SL_STEP_CLONE, errno, "fork into the container's PID namespace");
        syscall(SYS_close_range, 0, ~0U, 0);
        int status = 0;
        while (waitpid(inner, &status, 0) < 0) {
            if (errno != EINTR) _exit(127);
        }
        end_like(status);
    }
    int clone_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    if (tty) close(console[1]);
    int rc = sl_await_exec(p[0], pid, pidfd, clone_errno, res);
    if (rc == 0 && tty) {
        int master = sl_receive_fd(console[0]);
        if (master < 0) {
            int e = errno;
            kill(res->pid, SIGKILL); // our unreaped child: the pid is still its
            while (waitpid(res->pid, NULL, 0) < 0 && errno == EINTR) {}
            if (res->pidfd >= 0) close(res->pidfd);
            res->pid = -1;
            res->pidfd = -1;
            sl_fill_error(res, SL_STEP_CONSOLE_SOCKET, e, "receive the terminal");
            rc = -1;
        } else {
            *pty_master = master;
        }
    }
    if (tty) close(console[0]);
    return rc;
}

int sl_exec_in(int target_pidfd, const struct sl_spawn_config *cfg, struct sl_spawn_result *res) {
    int unused;
    return sl_exec_in_container(target_pidfd, cfg, NULL, &unused, res);
}

int sl_pty_resize(int pty_master, unsigned short rows, unsigned short cols) {
    struct winsize size = { rows, cols, 0, 0 };
    return ioctl(pty_master, TIOCSWINSZ, &size);
}
