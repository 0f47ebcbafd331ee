#include "include/sl_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <spawn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const int SL_CLONE_NEWNS = CLONE_NEWNS, SL_CLONE_NEWPID = CLONE_NEWPID, SL_CLONE_NEWNET = CLONE_NEWNET,
    SL_CLONE_NEWIPC = CLONE_NEWIPC, SL_CLONE_NEWUTS = CLONE_NEWUTS, SL_CLONE_NEWCGROUP = CLONE_NEWCGROUP,
    SL_CLONE_NEWUSER = CLONE_NEWUSER;

size_t sl_heap_free_bytes(void) { return mallinfo2().fordblks; }

int sl_heap_trim(void) { return malloc_trim(0); }

int sl_heap_limit_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int sl_heap_arena_count(void) {
    char *text = NULL;
    size_t length = 0;
    FILE *out = open_memstream(&text, &length);
    if (!out) return -1;
    malloc_info(0, out);
    fclose(out);
    int count = 0;
    for (const char *at = text; at && (at = strstr(at, "<heap nr=")); at++) count++;
    free(text);
    return count;
}

int sl_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int sl_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int sl_pidfd_wait(int pidfd, int nohang, int *status) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int rc;
    do {
        rc = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | (nohang ? WNOHANG : 0));
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) return -1;
    if (info.si_pid == 0) return 0;
    // Rebuild a wait(2)-style status so callers can use WIFEXITED/WTERMSIG logic.
    if (info.si_code == CLD_EXITED) *status = (info.si_status & 0xff) << 8;
    else *status = info.si_status & 0x7f;
    return 1;
}

int sl_setns(int fd, int nstype) { return setns(fd, nstype); }

int sl_cap_last_cap(void) {
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int v = -1;
    if (f) {
        if (fscanf(f, "%d", &v) != 1) v = -1;
        fclose(f);
    }
    return v >= 0 ? v : CAP_LAST_CAP;
}

int sl_cap_from_name(const char *name) {
    cap_value_t v;
    if (cap_from_name(name, &v) < 0) return -1;
    return (int)v;
}

int sl_bind_fd(int fd, const char *path) {
    char src[64];
    snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
    return mount(src, path, NULL, MS_BIND, NULL);
}

const char *sl_errno_text(int err, char *buf, unsigned long len) {
    const char *name = strerrorname_np(err); // glibc 2.32+
    if (name) snprintf(buf, len, "%s (%s)", name, strerror(err));
    else snprintf(buf, len, "errno %d (%s)", err, strerror(err));
    return buf;
}

int sl_socket_in_netns(int nsfd, int domain, int type, int protocol) {
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return -1;
    if (setns(nsfd, CLONE_NEWNET) < 0) {
        int e = errno;
        close(self);
        errno = e;
        return -1;
    }
    int s = socket(domain, type | SOCK_CLOEXEC, protocol);
    int e = errno;
    // Returning to our own namespace must not fail silently: a thread left in a pod's
    // namespace would make every later socket of this thread land there.
    if (setns(self, CLONE_NEWNET) < 0) abort();
    close(self);
    errno = e;
    return s;
}

int sl_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int sl_spawn_actions_chdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int sl_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int sl_tmpfile_cloexec(const char *dir) {
    return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

long long sl_statfs_type(const char *path) {
    struct statfs info;
    int rc;
    do {
        rc = statfs(path, &info);
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : (long long)info.f_type;
}

/* One warm-up at a time: a second would only queue behind the first on the same lock. */
static atomic_int warm_in_flight;

static void *warm_migration(void *arg) {
    char *path = arg;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        char pid[16];
        int length = snprintf(pid, sizeof pid, "%d", (int)getpid());
        /* Failure is fine: the write is only there to take the lock early. */
        if (write(fd, pid, (size_t)length) < 0) { }
        close(fd);
    }
    free(path);
    atomic_store(&warm_in_flight, 0);
    return NULL;
}

int sl_cgroup_warm_migration(const char *procs) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&warm_in_flight, &expected, 1)) return 1;
    char *copy = strdup(procs);
    if (!copy) {
        atomic_store(&warm_in_flight, 0);
        return -1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, warm_migration, copy);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(copy);
        atomic_store(&warm_in_flight, 0);
        errno = rc;
        return -1;
    }
    return 0;
}
