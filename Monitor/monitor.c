// swiftlet-monitor: the parent of one container, so the container outlives the agent
// (compare conmon and containerd-shim, both much larger). Started by sl_spawn_monitored:
//
//   swiftlet-monitor --log FILE --exit-file FILE [--tty] [--stdin] [--stdin-once]
//                    [--attach SOCKET] <container pid>
//   fd 3: the container's stdout pipe, or with --tty the master of its terminal
//   fd 4: its stderr pipe (none with --tty: the terminal carries both)
//   fd 5: a pidfd of the container
//   fd 6: with --stdin and no --tty, the write end of the container's stdin pipe
//         (with --tty the container's input is written to the terminal's master, fd 3)
//   fd 7: with --attach, the listening attach socket (bound at SOCKET by sl_spawn_monitored)
//
// It copies stdout/stderr into FILE in the CRI log format kubelet reads
// (`2026-11-22T10:00:00.123456789Z stdout F line`; lines longer than 16 KiB are split into
// `P` parts as containerd does; a terminal's output is the `stdout` stream, as containerd logs
// TTY containers), and when the container exits it reaps it and writes
// "<exit code> <signal> <finished unix ns>\n" to the exit file (atomically, via rename).
//
// The attach socket (conmon's "attach" socket is the model) is a unix stream socket. Up to
// MAX_CLIENTS clients at once; each receives the container's output from the moment it
// connects, and may send input. Both directions carry frames:
//   1 byte type, 4 bytes payload length (big-endian), payload
//   monitor -> client: 1 stdout bytes, 2 stderr bytes (the kubelet stream numbers)
//   client -> monitor: 0 stdin bytes (at most 32 KiB a frame), 5 stdin EOF (empty),
//                      4 window size (4 bytes: rows, columns, each 16-bit big-endian)
// A frame of another type or a bad length drops the client. When the container has exited and
// its output is drained the monitor closes every client (their EOF is the end of the attach).
// Bounded memory whatever the clients do: output goes to each client with a non-blocking send
// of the whole frame; a client whose socket buffer cannot take it (it does not read) is dropped,
// never the container, never the log. Input is written to the container as it can take it: while
// one frame waits in the single input buffer, no client's input is read (their sockets fill and
// their senders wait), so a container that never reads its stdin costs 32 KiB here at most.
// `--stdin-once` (kubelet's stdinOnce, without a terminal): the container's stdin is closed
// once the first client that sent input sends its EOF or goes away (containerd's
// ContainerIO.Attach does the same; with a terminal it leaves stdin open).
// Kept small on purpose: one of these runs per container, so its memory is paid per pod.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#define MAX_LINE 16384
#define MAX_CLIENTS 16
#define MAX_INPUT 32768
#define CLIENT_BUFFER (512 * 1024)

enum { FRAME_STDIN = 0, FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_RESIZE = 4, FRAME_STDIN_EOF = 5 };

struct stream {
    int fd;
    const char *name;
    unsigned char type; ///< the frame type its output goes to clients as
    char buf[MAX_LINE];
    size_t len;
};

/// One attach client: where it is in the frame it is sending.
struct client {
    int fd;              ///< -1: free slot
    unsigned char head[5];
    int head_len;        ///< bytes of the frame header received so far
    uint32_t left;       ///< payload bytes of the current frame still to come
    unsigned char small[4];
    int small_len;       ///< the resize payload received so far
    int sent_stdin;      ///< it sent input: its EOF or departure closes stdin with --stdin-once
};

static int log_fd = -1;
static struct client clients[MAX_CLIENTS];
static int stdin_fd = -1;       ///< where input goes (fd 6, or the terminal's master), -1: nowhere
static int terminal_fd = -1;    ///< the terminal's master (--tty), for window sizes
static int stdin_is_pipe;       ///< closing it is the container's EOF (not with a terminal)
static int stdin_once;
static int stdin_closing;       ///< close stdin once the pending input is written
static char input[MAX_INPUT];   ///< one frame of input on its way to the container
static size_t input_len, input_off;

// 96 bytes: room for any year gmtime can give, so -Wformat-truncation has nothing to say.
static void timestamp(char out[96]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
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
    char head[128];
    char ts[96];
    timestamp(ts);
    int h = snprintf(head, sizeof head, "%s %s %c ", ts, s->name, tag);
    // One write per record keeps records whole for a concurrent reader (`swiftlet logs -f`).
    static char line[MAX_LINE + 80];
    memcpy(line, head, (size_t)h);
    memcpy(line + h, text, len);
    line[h + len] = '\n';
    write_all(log_fd, line, (size_t)h + len + 1);
}

static void drop_client(struct client *c) {
    if (c->fd < 0) return;
    close(c->fd);
    c->fd = -1;
    // kubelet's stdinOnce: the first attach that gave input and left ends the container's input.
    if (stdin_once && c->sent_stdin) stdin_closing = 1;
}

/// Sends output to every client as one whole frame, without waiting: a client that cannot take
/// it now (its socket buffer is full: it does not read) is dropped.
static void broadcast(unsigned char type, const char *data, size_t len) {
    unsigned char head[5] = { type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                              (unsigned char)(len >> 8), (unsigned char)len };
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        if (c->fd < 0) continue;
        struct iovec iov[2] = { { head, sizeof head }, { (void *)data, len } };
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        ssize_t n;
        do { n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)(sizeof head + len)) drop_client(c);
    }
}

/// Reads what is available; returns 0 at EOF (a terminal's master answers EIO once the last
/// holder of its slave has gone: that is its EOF).
static int pump(struct stream *s) {
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) {
        if (s->len) emit(s, s->buf, s->len, 'F');
        s->len = 0;
        return 0;
    }
    broadcast(s->type, s->buf + s->len, (size_t)n);
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

static void close_stdin(void) {
    if (stdin_fd >= 0 && stdin_is_pipe) close(stdin_fd);
    stdin_fd = -1;
    input_len = input_off = 0;
    stdin_closing = 0;
}

/// Writes pending input as far as the container takes it now.
static void flush_input(void) {
    while (input_off < input_len && stdin_fd >= 0) {
        ssize_t n = write(stdin_fd, input + input_off, input_len - input_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) { // EPIPE: nobody reads the container's stdin any more
            if (stdin_is_pipe) close_stdin();
            break;
        }
        input_off += (size_t)n;
    }
    input_len = input_off = 0;
    if (stdin_closing) close_stdin();
}

/// Reads what one client sent: part of a frame header or of a payload.
static void serve_client(struct client *c) {
    if (c->head_len < 5) {
        ssize_t n = read(c->fd, c->head + c->head_len, (size_t)(5 - c->head_len));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) { drop_client(c); return; }
        c->head_len += (int)n;
        if (c->head_len < 5) return;
        c->left = (uint32_t)c->head[1] << 24 | (uint32_t)c->head[2] << 16 | (uint32_t)c->head[3] << 8 | c->head[4];
        c->small_len = 0;
        switch (c->head[0]) {
        case FRAME_STDIN:
            if (c->left > MAX_INPUT) { drop_client(c); return; }
            c->sent_stdin = 1;
            break;
        case FRAME_STDIN_EOF:
            if (c->left != 0) { drop_client(c); return; }
            c->sent_stdin = 1;
            if (stdin_once) stdin_closing = 1;
            break;
        case FRAME_RESIZE:
            if (c->left != 4) { drop_client(c); return; }
            break;
        default:
            drop_client(c);
            return;
        }
        if (c->left == 0) c->head_len = 0;
        return;
    }
    if (c->head[0] == FRAME_STDIN) {
        ssize_t n = read(c->fd, input, c->left);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) { drop_client(c); return; }
        c->left -= (uint32_t)n;
        if (stdin_fd >= 0) { // without a stdin the input is dropped, as containerd does
            input_len = (size_t)n;
            input_off = 0;
        }
    } else {
        ssize_t n = read(c->fd, c->small + c->small_len, c->left);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) { drop_client(c); return; }
        c->small_len += (int)n;
        c->left -= (uint32_t)n;
        if (c->left == 0 && terminal_fd >= 0) {
            // TIOCSWINSZ on the master: the kernel sends SIGWINCH to the foreground group.
            struct winsize size = { (unsigned short)(c->small[0] << 8 | c->small[1]),
                                    (unsigned short)(c->small[2] << 8 | c->small[3]), 0, 0 };
            (void)ioctl(terminal_fd, TIOCSWINSZ, &size);
        }
    }
    if (c->left == 0) c->head_len = 0;
}

static void accept_client(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd >= 0) continue;
        // A client's allowance for output it has not read yet: kernel memory, not ours. A
        // bigger one than the default (~208 KiB) rides out a slow moment of the agent's client
        // (SO_SNDBUFFORCE: we run as root; where refused the default stays).
        int size = CLIENT_BUFFER;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
        memset(&clients[i], 0, sizeof clients[i]);
        clients[i].fd = fd;
        return;
    }
    close(fd); // full: the newcomer is refused (its connection ends at once)
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

__attribute__((noreturn)) static int pause_main(void) {
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

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    if (argc == 2 && !strcmp(argv[1], "--pause")) return pause_main();
    const char *log_path = NULL, *exit_path = NULL, *attach_path = NULL;
    int tty = 0, with_stdin = 0;
    pid_t pid = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--log") && i + 1 < argc) log_path = argv[++i];
        else if (!strcmp(argv[i], "--exit-file") && i + 1 < argc) exit_path = argv[++i];
        else if (!strcmp(argv[i], "--attach") && i + 1 < argc) attach_path = argv[++i];
        else if (!strcmp(argv[i], "--tty")) tty = 1;
        else if (!strcmp(argv[i], "--stdin")) with_stdin = 1;
        else if (!strcmp(argv[i], "--stdin-once")) stdin_once = 1;
        else pid = (pid_t)atoi(argv[i]);
    }
    if (!exit_path || pid <= 0) {
        fprintf(stderr, "usage: swiftlet-monitor --log FILE --exit-file FILE [--tty] [--stdin] [--stdin-once] "
                        "[--attach SOCKET] PID (started by swiftlet)\n");
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
    // fd 5 first, before anything we open could take its number: a pidfd when sl_spawn_monitored
    // had one, else nothing (then we open one by pid).
    int pidfd = 5;
    char link[64];
    ssize_t n = readlink("/proc/self/fd/5", link, sizeof link - 1);
    if (n <= 0 || (link[n] = 0, strcmp(link, "anon_inode:[pidfd]") != 0)) pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (log_path) log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;

    static struct stream out = { .fd = 3, .name = "stdout", .type = FRAME_STDOUT },
                         err = { .fd = 4, .name = "stderr", .type = FRAME_STDERR };
    int open_streams = 2;
    if (tty) { // one terminal carries both, logged as stdout
        err.fd = -1;
        open_streams = 1;
        terminal_fd = 3;
        if (with_stdin) stdin_fd = 3;
    } else if (with_stdin) {
        stdin_fd = 6;
        stdin_is_pipe = 1;
    }
    // Input is written without waiting (a container that does not read must not stall us).
    if (stdin_fd >= 0) (void)fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
    int listener = attach_path ? 7 : -1;
    int exited = 0, status = 0;
    long long deadline = 0;
    enum { P_OUT, P_ERR, P_PID, P_LISTEN, P_STDIN, P_CLIENTS, P_COUNT = P_CLIENTS + MAX_CLIENTS };
    while (!exited || open_streams > 0) {
        struct pollfd fds[P_COUNT];
        fds[P_OUT] = (struct pollfd){ .fd = out.fd, .events = POLLIN };
        fds[P_ERR] = (struct pollfd){ .fd = err.fd, .events = POLLIN };
        fds[P_PID] = (struct pollfd){ .fd = exited ? -1 : pidfd, .events = POLLIN };
        // After the exit nobody new attaches and input goes nowhere: only the output drains.
        fds[P_LISTEN] = (struct pollfd){ .fd = exited ? -1 : listener, .events = POLLIN };
        int pending = input_off < input_len;
        fds[P_STDIN] = (struct pollfd){ .fd = pending && !exited ? stdin_fd : -1, .events = POLLOUT };
        for (int i = 0; i < MAX_CLIENTS; i++) {
            // While input waits, clients' input stays in their sockets (their back-pressure);
            // a client's hang-up is still seen (POLLHUP needs no event bit).
            fds[P_CLIENTS + i] = (struct pollfd){ .fd = exited ? -1 : clients[i].fd, .events = pending ? 0 : POLLIN };
        }
        // After the exit, wait at most 2 s for the pipes to drain: a process that escaped the
        // container's PID namespace (hostPID) may hold them open forever.
        int timeout = -1;
        if (exited) {
            long long left = deadline - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        int rc = poll(fds, P_COUNT, timeout);
        if (rc < 0 && errno == EINTR) continue;
        if (rc == 0) break;
        if (out.fd >= 0 && (fds[P_OUT].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(&out)) {
            close(out.fd);
            if (stdin_fd == out.fd) stdin_fd = -1;
            terminal_fd = -1;
            out.fd = -1;
            open_streams--;
        }
        if (err.fd >= 0 && (fds[P_ERR].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(&err)) { close(err.fd); err.fd = -1; open_streams--; }
        if (!exited && (fds[P_PID].revents & POLLIN)) {
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            exited = 1;
            deadline = now_ms() + 2000;
        }
        if (pidfd < 0 && !exited && open_streams == 0) { // no pidfd: fall back to blocking
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            exited = 1;
            deadline = now_ms() + 2000;
        }
        if (exited) continue;
        if (fds[P_STDIN].revents) flush_input();
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].fd < 0 || !fds[P_CLIENTS + i].revents) continue;
            if (input_off < input_len) { // pending input: only a hang-up is handled now
                if (fds[P_CLIENTS + i].revents & (POLLHUP | POLLERR)) drop_client(&clients[i]);
                continue;
            }
            serve_client(&clients[i]);
            if (input_len > 0) flush_input();
        }
        if (stdin_closing && input_off >= input_len) close_stdin();
        if (fds[P_LISTEN].revents & POLLIN) accept_client(listener);
    }
    if (!exited) while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (out.len) emit(&out, out.buf, out.len, 'F');
    if (err.len) emit(&err, err.buf, err.len, 'F');
    if (log_fd >= 0) fsync(log_fd);
    // Nobody attaches to an exited container: the socket goes before the clients learn the end.
    if (attach_path) unlink(attach_path);
    int written = write_exit_file(exit_path, code, sig);
    for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].fd >= 0) close(clients[i].fd);
    return written == 0 ? 0 : 1;
}
