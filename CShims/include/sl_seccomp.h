// libseccomp and libcap, used only in the parent: they allocate, so the filter and the
// capability numbers are prepared before clone and the child merely loads them.
#ifndef SL_SECCOMP_H
#define SL_SECCOMP_H
#include <seccomp.h>
#include <sys/capability.h>
#endif
