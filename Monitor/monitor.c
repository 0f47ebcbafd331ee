// swiftlet-monitor: the parent of one container, so the container outlives the agent
// (compare conmon and containerd-shim, both much larger). Started by sl_spawn_monitored:
//
//   swiftlet-monitor --log FILE --exit-file FILE <container pid>
//   fd 3: the container's stdout pipe, fd 4: its stderr pipe, fd 5: a pidfd of the container
//
// It copies stdout/stderr into FILE in the CRI log format kubelet reads
// (`2026-11-22T10:00:00.123456789Z stdout F line`; lines longer than 16 KiB are split into
// `P` parts as containerd does), and when the container exits it reaps it and writes
// "<exit code> <signal> <finished unix ns>\n" to the exit file (atomically, via rename).
// Kept small on purpose: one of these runs per container, so its memory is paid per pod.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAX_LINE 16384

struct stream {
    int fd;
    const char *name;
    char buf[MAX_LINE];
    size_t len;
};

static int log_fd = -1;

static void timestamp(char out[40]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static void write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return; // a full disk loses log lines, never the container
        data += n;
        len -= (size_t)n;
    }
}

/// One CRI log record: timestamp, stream, P(artial) or F(ull), the text without its newline.
static void emit(const struct stream *s, const char *text, size_t len, char tag) {
    if (log_fd < 0) return;
    char head[64];
    char ts[40];
    timestamp(ts);
    int h = snprintf(head, sizeof head, "%s %s %c ", ts, s->name, tag);
    // One write per record keeps records whole for a concurrent reader (`swiftlet logs -f`).
    char line[MAX_LINE + 80];
    memcpy(line, head, (size_t)h);
    memcpy(line + h, text, len);
    line[h + len] = '\n';
    write_all(log_fd, line, (size_t)h + len + 1);
}

/// Reads what is available; returns 0 at EOF.
static int pump(struct stream *s) {
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) {
        if (s->len) emit(s, s->buf, s->len, 'F');
        s->len = 0;
        return 0;
    }
    s->len += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] == '\n') {
            emit(s, s->buf + start, i - start, 'F');
            start = i + 1;
        }
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    if (s->len == sizeof s->buf) { // a line longer than the buffer: emit it in parts
        emit(s, s->buf, s->len, 'P');
        s->len = 0;
    }
    return 1;
}

static int write_exit_file(const char *path, int code, int sig) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    char text[96];
    int n = snprintf(text, sizeof text, "%d %d %lld\n", code, sig, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    write_all(fd, text, (size_t)n);
    fsync(fd);
    close(fd);
    return rename(tmp, path);
}

/// `--pause`: PID 1 of a pod's shared PID namespace (shareProcessNamespace). Like the pause
/// container: sleep, reap the orphans the kernel hands to PID 1, exit on SIGTERM/SIGINT.
static void on_stop(int sig) { (void)sig; _exit(0); }
static void on_child(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

static int pause_main(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGHUP, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    for (;;) pause();
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--pause")) return pause_main();
    const char *log_path = NULL, *exit_path = NULL;
    pid_t pid = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--log") && i + 1 < argc) log_path = argv[++i];
        else if (!strcmp(argv[i], "--exit-file") && i + 1 < argc) exit_path = argv[++i];
        else pid = (pid_t)atoi(argv[i]);
    }
    if (!exit_path || pid <= 0) {
        fprintf(stderr, "usage: swiftlet-monitor --log FILE --exit-file FILE PID (started by swiftlet)\n");
        return 2;
    }
    // The agent blocked all signals before cloning us. A monitor must not die of signals meant
    // for others (a closed terminal, a Ctrl-C): only SIGKILL/SIGTERM end it.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    if (log_path) log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    static struct stream out = { .fd = 3, .name = "stdout" }, err = { .fd = 4, .name = "stderr" };
    int pidfd = 5;
    if (fcntl(pidfd, F_GETFD) < 0) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int open_streams = 2;
    int exited = 0, status = 0;
    while (!exited || open_streams > 0) {
        struct pollfd fds[3] = {
            { .fd = out.fd >= 0 ? out.fd : -1, .events = POLLIN },
            { .fd = err.fd >= 0 ? err.fd : -1, .events = POLLIN },
            { .fd = exited ? -1 : pidfd, .events = POLLIN },
        };
        // After the exit, wait at most 2 s for the pipes to drain: a process that escaped the
        // container's PID namespace (hostPID) may hold them open forever.
        int rc = poll(fds, 3, exited ? 2000 : -1);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) break;
        if (out.fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(&out)) { close(out.fd); out.fd = -1; open_streams--; }
        if (err.fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(&err)) { close(err.fd); err.fd = -1; open_streams--; }
        if (!exited && (fds[2].revents & POLLIN)) {
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            exited = 1;
        }
        if (pidfd < 0 && !exited && open_streams == 0) { // no pidfd: fall back to blocking
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            exited = 1;
        }
    }
    if (!exited) while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (out.len) emit(&out, out.buf, out.len, 'F');
    if (err.len) emit(&err, err.buf, err.len, 'F');
    if (log_fd >= 0) fsync(log_fd);
    return write_exit_file(exit_path, code, sig) == 0 ? 0 : 1;
}
