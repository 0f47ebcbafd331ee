// Filesystem work of the container child: resolving mount targets safely inside the new root,
// applying the mount list, pivot_root, masked and read-only paths.
//
// Runs in the cloned child only: no allocation, no stdio, errors go through sl_child_fail.
#include "sl_child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

/// openat2 with RESOLVE_IN_ROOT: "..", absolute symlinks and absolute paths all stay inside
/// `rootfd`, which is how an image's `/var/run -> /run` symlink must be read, and how a hostile
/// image cannot make us mount over a host path (compare runc's securejoin).
static int open_in_root(int rootfd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/// Formats "/proc/self/fd/<fd>" into buf: mount(2) follows that magic link to the exact
/// inode we resolved, so nothing can swap a path component between resolution and mount.
void sl_fd_path(char buf[64], int fd) {
    const char *prefix = "/proc/self/fd/";
    size_t n = strlen(prefix);
    memcpy(buf, prefix, n);
    char digits[16];
    int d = 0;
    unsigned v = (unsigned)fd;
    do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v && d < 15);
    while (d) buf[n++] = digits[--d];
    buf[n] = 0;
}

/// Resolves `path` inside the root, creating missing directories (and the last component as
/// an empty file when `is_file`), and returns an O_PATH fd to it.
int sl_ensure_in_root(int rootfd, const char *path, int is_file) {
    char buf[PATH_MAX];
    size_t len = 0;
    int parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
    if (parent < 0) return -1;
    const char *p = path;
    while (*p == '/') p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t clen = end ? (size_t)(end - p) : strlen(p);
        const char *next = end ? end + strspn(end, "/") : p + clen;
        int last = (*next == 0);
        if (len + clen + 2 >= sizeof buf || clen > NAME_MAX) { close(parent); errno = ENAMETOOLONG; return -1; }
        buf[len++] = '/';
        memcpy(buf + len, p, clen);
        len += clen;
        buf[len] = 0;
        int fd = open_in_root(rootfd, buf, O_PATH);
        if (fd < 0 && errno == ENOENT) {
            char name[NAME_MAX + 1];
            memcpy(name, p, clen);
            name[clen] = 0;
            if (last && is_file) {
                int f = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (f >= 0) close(f);
                else if (errno != EEXIST) { close(parent); return -1; }
            } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                close(parent);
                return -1;
            }
            fd = open_in_root(rootfd, buf, O_PATH);
        }
        close(parent);
        if (fd < 0) return -1;
        parent = fd;
        p = next;
    }
    return parent;
}

/// MS_* flags of the mount holding `fd`, so a read-only remount keeps nosuid/nodev/noexec.
static unsigned long mount_flags_of(int fd) {
    struct statfs st;
    if (fstatfs(fd, &st) < 0) return 0;
    unsigned long keep = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;
    return (unsigned long)st.f_flags & keep; // statfs f_flags uses the MS_* values for these bits
}

/// Remounts the bind mount now sitting at `path` (inside the root) with `extra` flags and
/// read-only when asked: a first bind mount(2) ignores MS_RDONLY, MS_NOSUID and friends.
/// MS_BIND|MS_REMOUNT changes only the per-mount flags, so it serves any mount (sysfs, tmpfs)
/// without touching a superblock other mounts share.
static void remount_bind(int rootfd, const char *path, unsigned long extra, int readonly, int errpipe) {
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd < 0) sl_child_fail(errpipe, SL_STEP_REMOUNT_RO, errno, path);
    char fdpath[64];
    sl_fd_path(fdpath, fd);
    unsigned long flags = MS_BIND | MS_REMOUNT | mount_flags_of(fd) | extra | (readonly ? MS_RDONLY : 0);
    if (mount(NULL, fdpath, NULL, flags, NULL) < 0) sl_child_fail(errpipe, SL_STEP_REMOUNT_RO, errno, path);
    close(fd);
}

/// Splits `path` into its parent and last component, resolves the parent inside the root.
static int parent_in_root(int rootfd, const char *path, char name[NAME_MAX + 1]) {
    char dir[PATH_MAX];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t slash = n;
    while (slash > 0 && path[slash - 1] != '/') slash--;
    size_t nlen = n - slash;
    if (nlen == 0 || nlen > NAME_MAX || slash >= sizeof dir) { errno = EINVAL; return -1; }
    memcpy(name, path + slash, nlen);
    name[nlen] = 0;
    memcpy(dir, path, slash);
    dir[slash] = 0;
    if (slash == 0) { dir[0] = '/'; dir[1] = 0; }
    return sl_ensure_in_root(rootfd, dir, 0);
}

void sl_apply_mounts(const struct sl_spawn_config *cfg, int rootfd, int errpipe) {
    for (int i = 0; i < cfg->nmounts; i++) {
        const struct sl_mount *m = &cfg->mounts[i];
        char fdpath[64];
        char name[NAME_MAX + 1];
        switch (m->kind) {
        case SL_MOUNT_DEVICE: {
            int dir = parent_in_root(rootfd, m->target, name);
            if (dir < 0) sl_child_fail(errpipe, SL_STEP_MKDIR_TARGET, errno, m->target);
            if (mknodat(dir, name, (mode_t)m->mode, makedev(m->major, m->minor)) < 0 && errno != EEXIST)
                sl_child_fail(errpipe, SL_STEP_MKNOD, errno, m->target);
            close(dir);
            break;
        }
        case SL_MOUNT_SYMLINK: {
            int dir = parent_in_root(rootfd, m->target, name);
            if (dir < 0) sl_child_fail(errpipe, SL_STEP_MKDIR_TARGET, errno, m->target);
            if (symlinkat(m->source, dir, name) < 0 && errno != EEXIST)
                sl_child_fail(errpipe, SL_STEP_SYMLINK, errno, m->target);
            close(dir);
            break;
        }
        case SL_MOUNT_BIND:
        case SL_MOUNT_FS: {
            int fd = sl_ensure_in_root(rootfd, m->target, m->target_is_file);
            if (fd < 0) sl_child_fail(errpipe, SL_STEP_MKDIR_TARGET, errno, m->target);
            sl_fd_path(fdpath, fd);
            int rc;
            if (m->kind == SL_MOUNT_BIND)
                rc = mount(m->source, fdpath, NULL, MS_BIND | MS_REC | m->flags, NULL);
            else
                rc = mount(m->source, fdpath, m->fstype, m->flags, m->data);
            if (rc < 0) sl_child_fail(errpipe, SL_STEP_MOUNT, errno, m->target);
            close(fd);
            if (m->kind == SL_MOUNT_BIND && (m->readonly || m->flags != 0))
                remount_bind(rootfd, m->target, m->flags, m->readonly, errpipe);
            else if (m->kind == SL_MOUNT_FS && m->readonly && !(m->flags & MS_RDONLY))
                remount_bind(rootfd, m->target, 0, 1, errpipe);
            break;
        }
        case SL_MOUNT_REMOUNT:
            remount_bind(rootfd, m->target, m->flags, m->readonly, errpipe);
            break;
        default:
            sl_child_fail(errpipe, SL_STEP_MOUNT, EINVAL, m->target);
        }
    }
}

void sl_pivot_root(const char *rootfs, int errpipe) {
    // pivot_root(".", ".") stacks the old root on top of the new one at "/"; detaching it
    // leaves only the container's tree (the trick runc and crun use; no put_old directory).
    if (chdir(rootfs) < 0) sl_child_fail(errpipe, SL_STEP_PIVOT_ROOT, errno, rootfs);
    if (syscall(SYS_pivot_root, ".", ".") < 0) sl_child_fail(errpipe, SL_STEP_PIVOT_ROOT, errno, rootfs);
    if (umount2(".", MNT_DETACH) < 0) sl_child_fail(errpipe, SL_STEP_UMOUNT_OLDROOT, errno, rootfs);
    if (chdir("/") < 0) sl_child_fail(errpipe, SL_STEP_PIVOT_ROOT, errno, "/");
}

void sl_mask_paths(const struct sl_spawn_config *cfg, int errpipe) {
    // Kernel interfaces containerd hides from containers: files get /dev/null bound over them,
    // directories an empty read-only tmpfs. Paths the kernel lacks are skipped.
    for (int i = 0; i < cfg->nmasked; i++) {
        const char *path = cfg->masked_paths[i];
        struct stat st;
        if (stat(path, &st) < 0) {
            if (errno == ENOENT) continue;
            sl_child_fail(errpipe, SL_STEP_MASK_PATH, errno, path);
        }
        int rc = S_ISDIR(st.st_mode)
            ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0")
            : mount("/dev/null", path, NULL, MS_BIND, NULL);
        if (rc < 0) sl_child_fail(errpipe, SL_STEP_MASK_PATH, errno, path);
    }
    for (int i = 0; i < cfg->nreadonly; i++) {
        const char *path = cfg->readonly_paths[i];
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT) continue;
            sl_child_fail(errpipe, SL_STEP_READONLY_PATH, errno, path);
        }
        int fd = open(path, O_PATH | O_CLOEXEC);
        unsigned long keep = fd >= 0 ? mount_flags_of(fd) : 0;
        if (fd >= 0) close(fd);
        if (mount(path, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
            sl_child_fail(errpipe, SL_STEP_READONLY_PATH, errno, path);
    }
    if (cfg->readonly_rootfs && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
        sl_child_fail(errpipe, SL_STEP_READONLY_ROOT, errno, "/");
}
