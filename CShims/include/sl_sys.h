// Small syscall wrappers Swift cannot call directly: syscall(2) is variadic, and some
// constants (P_PIDFD, CLONE_NEW*) sit behind _GNU_SOURCE in Swift's Glibc module.
#ifndef SL_SYS_H
#define SL_SYS_H
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

/// CLONE_NEW* flags, re-exported for Swift.
extern const int SL_CLONE_NEWNS, SL_CLONE_NEWPID, SL_CLONE_NEWNET, SL_CLONE_NEWIPC,
    SL_CLONE_NEWUTS, SL_CLONE_NEWCGROUP, SL_CLONE_NEWUSER;

/// pidfd_open(2); -1 with errno on failure.
int sl_pidfd_open(pid_t pid);
/// pidfd_send_signal(2).
int sl_pidfd_send_signal(int pidfd, int sig);
/// Waits for the child behind `pidfd` to exit (blocking unless `nohang`); returns 1 and the
/// wait status in `status` when it exited, 0 when still running (nohang), -1 on error.
int sl_pidfd_wait(int pidfd, int nohang, int *status);
/// glibc's malloc statistics and trim (<malloc.h> is not in Swift's Glibc module): bytes free
/// inside the heap's arenas (mallinfo2's fordblks), and malloc_trim(0), which gives the free
/// pages of every arena back to the kernel; returns 1 if it released memory.
size_t sl_heap_free_bytes(void);
int sl_heap_trim(void);
/// mallopt(M_ARENA_MAX): threads beyond this many share arenas instead of each making one;
/// 1 on success. And how many arenas the heap has now (malloc_info's heaps), -1 on failure.
int sl_heap_limit_arenas(int arenas);
int sl_heap_arena_count(void);
/// Writes this process's pid into `procs`, the cgroup.procs of a group it is already in, on a
/// detached thread of its own, and returns at once (0; -1 with errno if no thread could start;
/// 1 when one is still running, so nothing was started). The write moves nothing, but it takes the
/// kernel's cgroup_threadgroup_rwsem for writing, as every migration does, and the first writer
/// after a quiet spell waits an RCU grace period for it (rcu_sync_enter; 4-8 ms on a quiet 2-core
/// VM, 24 ms under load). Migrations in the grace period after it find the wait done (0.1 ms): the
/// agent starts this when a pod's sandbox is being made, so the container's own cgroup.procs
/// writes, moments later, do not wait.
int sl_cgroup_warm_migration(const char *procs);
/// setns(2), for tests and tools that enter a pod namespace on a dedicated thread.
int sl_setns(int fd, int nstype);
/// Highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int sl_cap_last_cap(void);
/// Capability number for a name like "CAP_NET_ADMIN" (libcap), or -1.
int sl_cap_from_name(const char *name);
/// "EBUSY (Device or resource busy)": the symbolic name users search for, then the text.
/// Written into `buf`; returns `buf`.
const char *sl_errno_text(int err, char *buf, unsigned long len);
/// A socket created inside the network namespace `nsfd` (and usable from anywhere): the
/// calling thread enters the namespace, creates the socket and returns to its own namespace
/// before this returns. -1 with errno on failure.
int sl_socket_in_netns(int nsfd, int domain, int type, int protocol);
/// Binds the namespace behind `fd` onto the file `path` (ip-netns style), so it outlives us.
int sl_bind_fd(int fd, const char *path);
/// posix_spawn file actions behind _GNU_SOURCE (glibc 2.34, 2.29): close every descriptor
/// from `from` up in the child, and change its working directory. Test harnesses spawn their
/// helpers with these so a child inherits only its stdio, whatever other threads have open.
int sl_spawn_actions_closefrom(posix_spawn_file_actions_t *actions, int from);
int sl_spawn_actions_chdir(posix_spawn_file_actions_t *actions, const char *path);
/// pipe2(2) with O_CLOEXEC (GNU-only in Swift's Glibc); -1 with errno on failure.
int sl_pipe_cloexec(int fds[2]);
/// An unlinked temporary file in `dir`, opened O_RDWR|O_CLOEXEC (O_TMPFILE); -1 with errno.
int sl_tmpfile_cloexec(const char *dir);

/// statfs(2)'s f_type of the filesystem holding `path` (CGROUP2_SUPER_MAGIC...), or -1 with
/// errno: Swift's Glibc module does not export <sys/vfs.h>.
long long sl_statfs_type(const char *path);
#endif
