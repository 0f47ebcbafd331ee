// Internal to the spawn path: functions the cloned child calls. Not exported to Swift.
#ifndef SL_CHILD_H
#define SL_CHILD_H
#include "include/sl_spawn.h"

/// Reports (step, errno, detail) to the parent over the error pipe and exits 127.
__attribute__((noreturn)) void sl_child_fail(int errpipe, int step, int err, const char *detail);
void sl_fd_path(char buf[64], int fd);
int sl_ensure_in_root(int rootfd, const char *path, int is_file);
void sl_apply_mounts(const struct sl_spawn_config *cfg, int rootfd, int errpipe);
void sl_pivot_root(const char *rootfs, int errpipe);
void sl_mask_paths(const struct sl_spawn_config *cfg, int errpipe);
void sl_drop_privileges(const struct sl_spawn_config *cfg, int errpipe);
void sl_load_seccomp(const struct sl_spawn_config *cfg, int errpipe);

void sl_reset_signals(void);
void sl_setup_stdio(const struct sl_spawn_config *cfg, int errpipe);
__attribute__((noreturn)) void sl_finish_and_exec(const struct sl_spawn_config *cfg, int errpipe);
void sl_exec_command(const struct sl_spawn_config *cfg, int errpipe);
pid_t sl_clone_fork(int flags, int *pidfd);
/// posix_spawn's clone: the child runs `fn(arg)` on a stack of its own in our memory, and the
/// calling thread sleeps until it execs or exits. For children that only exec or exit; see
/// spawn.c for what they may touch.
pid_t sl_clone_vfork(int flags, int *pidfd, int (*fn)(void *), void *arg);
/// A child's stack in our memory (SL_CHILD_STACK bytes above a guard page): returns its top, or
/// NULL with errno. `sl_child_stack_free` takes that top back once the child exec'd or exited.
#define SL_CHILD_STACK (512 * 1024)
char *sl_child_stack_map(void);
void sl_child_stack_free(char *top);
void sl_fill_error(struct sl_spawn_result *res, int step, int err, const char *detail);
/// Parent side after a clone: waits for the child's exec (EOF on `errpipe`) or its failure
/// report, which it turns into `res` after reaping the child. Closes `errpipe`.
int sl_await_exec(int errpipe, pid_t pid, int pidfd, int clone_errno, struct sl_spawn_result *res);

/// Message on the error pipe: a failure (step > 0, then the child exits), or a notice the
/// child sends and goes on (step < 0: SL_NOTICE_*).
struct sl_child_msg {
    int step;
    int err;
    char detail[256];
};
/// The kernel refused the oom_score_adj asked for; `err` holds the value applied instead.
#define SL_NOTICE_OOM_SCORE_ADJ (-1)
/// Sends a notice (step < 0) to the parent; the child carries on.
void sl_child_notice(int errpipe, int notice, int value);
struct sl_child_msg;
/// In the child: a terminal from the (container's) /dev/ptmx becomes stdio and controlling
/// terminal in a new session; the master goes to the parent over `console` (exec.c).
void sl_open_terminal(unsigned short rows, unsigned short cols, int console, int errpipe);
/// The fd sent over `sock` by sl_open_terminal, received without waiting; -1 with errno.
int sl_receive_fd(int sock);
/// runc's fixStdioPermissions: stdio other than /dev/null is handed to `uid`.
void sl_give_stdio_to(uint32_t uid);
int sl_read_child_msg(int fd, struct sl_child_msg *msg);
#endif
