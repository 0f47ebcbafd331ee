// The attach socket of a container (`kubectl attach`): a unix stream socket in the container's
// state directory, named "attach", listened on by its monitor (see Monitor/monitor.c for the
// framed protocol). Why C: a unix socket address holds at most 107 bytes, and a state
// directory (<run root>/pods/<uid>/containers/<name>/<attempt>) can be longer; both sides go
// through /proc/self/fd/<directory fd>/attach instead, as conmon does for its attach socket.
#ifndef SL_ATTACH_H
#define SL_ATTACH_H

/// The name of the socket inside the container's directory.
#define SL_ATTACH_SOCKET_NAME "attach"

/// Creates the listening socket at `<dir>/attach` (CLOEXEC; a stale one is replaced). Only
/// syscalls on ready-made data: callable in a cloned child. Returns the fd, or -1 with errno.
int sl_attach_listen(const char *dir);

/// Connects to the attach socket in `dir` (blocking, CLOEXEC). Returns the fd, or -1 with
/// errno: ENOENT when there is no socket (no monitor, or the container has exited),
/// ECONNREFUSED when its monitor is gone.
int sl_attach_connect(const char *dir);

#endif
