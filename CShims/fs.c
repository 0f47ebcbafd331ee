#define _GNU_SOURCE
#include <unistd.h>
#include "sl_fs.h"

int sl_syncfs(int fd) {
    return syncfs(fd);
}
