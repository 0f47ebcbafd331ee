// Private to the netlink C files: entering a network namespace on this thread and coming back.
// Swift never sees these; it calls functions that do enter → one thing → leave with no await
// (no other task can run on the thread) in between.
#ifndef SL_NETLINK_NS_H
#define SL_NETLINK_NS_H

/// Moves the calling thread into `netns_fd` (nothing when -1). Returns the fd of the thread's
/// previous namespace to give to sl_ns_leave (-1 when nothing was entered), or -2 with errno
/// and `*step` set on failure (the thread is then still in its own namespace).
int sl_ns_enter(int netns_fd, const char **step);

/// Returns the thread to the namespace `saved` (from sl_ns_enter) and closes it, preserving
/// errno. Aborts when that fails: the thread would go on running in a foreign namespace.
void sl_ns_leave(int saved);
#endif
