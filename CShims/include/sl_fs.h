// File system durability calls Swift's Glibc module hides behind _GNU_SOURCE.
#ifndef SL_FS_H
#define SL_FS_H

/// syncfs(2): writes back everything dirty on the file system holding `fd`. The image store
/// calls it once per unpacked layer before renaming the layer into place, instead of an fsync
/// per file (a layer has thousands). -1 with errno on failure.
int sl_syncfs(int fd);

#endif
