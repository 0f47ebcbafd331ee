// Attach sockets by directory: see sl_attach.h.
#include "include/sl_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/// `/proc/self/fd/<dirfd>/attach` into `addr`; async-signal-safe.
static void address(struct sockaddr_un *addr, int dirfd) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)dirfd;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    char *p = addr->sun_path;
    static const char prefix[] = "/proc/self/fd/";
    memcpy(p, prefix, sizeof prefix - 1);
    p += sizeof prefix - 1;
    while (n) *p++ = digits[--n];
    *p++ = '/';
    memcpy(p, SL_ATTACH_SOCKET_NAME, sizeof SL_ATTACH_SOCKET_NAME);
}

static int with_directory(const char *dir, int listen_side) {
    int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return -1;
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        int e = errno;
        close(dirfd);
        errno = e;
        return -1;
    }
    struct sockaddr_un addr;
    address(&addr, dirfd);
    int rc;
    if (listen_side) {
        (void)unlinkat(dirfd, SL_ATTACH_SOCKET_NAME, 0);
        rc = bind(s, (struct sockaddr *)&addr, sizeof addr);
        if (rc == 0) {
            // Only the agent (root) may attach: the container's input and output are its own.
            (void)fchmodat(dirfd, SL_ATTACH_SOCKET_NAME, 0600, 0);
            rc = listen(s, 16);
        }
    } else {
        do { rc = connect(s, (struct sockaddr *)&addr, sizeof addr); } while (rc < 0 && errno == EINTR);
    }
    int e = errno;
    close(dirfd);
    if (rc < 0) {
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

int sl_attach_listen(const char *dir) { return with_directory(dir, 1); }

int sl_attach_connect(const char *dir) { return with_directory(dir, 0); }
