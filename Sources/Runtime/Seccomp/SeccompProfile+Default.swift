#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Kubernetes `RuntimeDefault` (and kubelet `--seccomp-default`) means "the container
// runtime's default profile"; under containerd that is contrib/seccomp/seccomp_default.go,
// which we express here as data, rule for rule:
// https://github.com/containerd/containerd/blob/main/contrib/seccomp/seccomp_default.go
// (checked against containerd main at 301026e5, August 2026, after the AF_ALG change of
// April 2026). containerd builds the list imperatively for one container; we keep its
// conditions on the rules (the way moby's default.json does) so the profile is one value
// and `compile(capabilities:)` resolves it per container.
//
// Where containerd and moby's default.json differ, containerd wins: the lsm_* syscalls are
// allowed without CAP_SYS_ADMIN, and on amd64 both arch_prctl and modify_ldt are allowed.

extension SeccompProfile {
    /// containerd's default profile: what Kubernetes `RuntimeDefault` means.
    ///
    /// Everything not allowed fails with EPERM. Allowed are the ~360 syscalls ordinary
    /// programs use; a few more when the container holds the capability that makes them
    /// meaningful (CAP_SYS_ADMIN: mount, setns, unshare, clone with namespace flags...);
    /// `clone` with CLONE_NEW* flags fails with EPERM without CAP_SYS_ADMIN, and `clone3`
    /// (whose flags seccomp cannot inspect) with ENOSYS so that libc falls back to `clone`.
    public static let runtimeDefault = SeccompProfile(
        defaultAction: .errno(EPERM),
        architectures: RuntimeDefaultProfile.architectures,
        rules: RuntimeDefaultProfile.rules)
}

/// The data of `SeccompProfile.runtimeDefault`: the rules in containerd's order, its big
/// allow list split by topic.
enum RuntimeDefaultProfile {
    /// containerd's `arches()`: the host architecture and the ones its CPU also runs
    /// (32-bit x86 and x32 on amd64, 32-bit ARM on arm64), so that 32-bit binaries run under
    /// the same policy (with their own syscall numbers) instead of being killed by the
    /// bad-architecture action.
    static let architectures: [String] = {
        switch SeccompArchitecture.hostSeccompName {
        case "SCMP_ARCH_X86_64": return ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        case "SCMP_ARCH_AARCH64": return ["SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64"]
        case "SCMP_ARCH_S390X": return ["SCMP_ARCH_S390", "SCMP_ARCH_S390X"]
        case "SCMP_ARCH_RISCV64": return ["SCMP_ARCH_RISCV64"]
        default: return []  // containerd: native only (ppc64le among others)
        }
    }()

    /// The namespace flags of clone(2) (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC |
    /// CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP): creating namespaces is
    /// what CAP_SYS_ADMIN unlocks; a plain fork or thread creation has none of them.
    static let cloneNamespaceFlags: UInt64 = 0x0002_0000 | 0x0400_0000 | 0x0800_0000
        | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0200_0000

    /// Address families socket(2) must not create: AF_ALG (38, the kernel crypto API, a
    /// large attack surface containers do not need) and AF_VSOCK (40, host/VM sockets).
    static let afALG: UInt64 = 38
    static let afVSOCK: UInt64 = 40

    /// Every rule in containerd's order (33 of them: see the test deriving that number).
    static let rules: [SeccompRule] =
        [SeccompRule(names: allowed, action: .allow)]
        + socket + personality + ptraceOnModernKernels + architectureSpecific
        + capabilityGated + withoutSysAdmin

    /// The unconditional allow list (containerd's first rule), by topic.
    static let allowed: [String] = processes + threads + credentials + scheduling + signals
        + time + memory + files + xattrs + io + events + sockets + ipc + selfRestriction + system

    // MARK: - The allow list, by topic

    /// Starting, running and ending processes, process groups and sessions, and signalling
    /// them. `kill` and `pidfd_*` only reach processes visible in the container's PID
    /// namespace, under the kernel's usual permission checks; `capset` cannot raise a
    /// process's capabilities beyond its permitted set.
    static let processes: [String] = [
        "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid",
        "restart_syscall", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid", "getsid",
        "setsid", "pidfd_open", "pidfd_send_signal", "process_mrelease", "kill", "tkill", "tgkill",
        "prctl", "capget", "capset",
    ]

    /// Threads and the libc machinery under them: robust futex lists, TLS, restartable
    /// sequences, futexes. Every threaded program needs these; `uretprobe` and
    /// `map_shadow_stack` are newer CPU/tracing helpers libc may call.
    static let threads: [String] = [
        "set_tid_address", "set_robust_list", "get_robust_list", "set_thread_area",
        "get_thread_area", "rseq", "membarrier", "futex", "futex_requeue", "futex_time64",
        "futex_wait", "futex_waitv", "futex_wake", "uretprobe", "map_shadow_stack",
    ]

    /// Reading and changing user and group ids (and the 32-bit x86 variants). Changing them
    /// is still checked by the kernel against CAP_SETUID / CAP_SETGID and the user namespace,
    /// so allowing the syscalls lets `su`, `nginx`, `postgres` drop privileges.
    static let credentials: [String] = [
        "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32",
        "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32",
        "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid",
        "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid",
        "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32",
    ]

    /// CPU scheduling, I/O priority and resource limits of the caller's own processes. Raising
    /// priorities or limits beyond what is allowed still needs CAP_SYS_NICE / CAP_SYS_RESOURCE
    /// in the kernel.
    static let scheduling: [String] = [
        "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
        "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
        "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
        "sched_rr_get_interval_time64", "getpriority", "setpriority", "ioprio_get", "ioprio_set",
        "getcpu", "getrlimit", "setrlimit", "prlimit64", "ugetrlimit", "getrusage", "times",
    ]

    /// Signal handling, signal masks, interval timers.
    static let signals: [String] = [
        "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigsuspend", "rt_sigreturn",
        "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "sigaltstack", "sigprocmask", "sigreturn", "signalfd", "signalfd4", "pause", "alarm",
        "getitimer", "setitimer",
    ]

    /// Reading clocks, sleeping, POSIX timers and timerfd. `adjtimex` and `clock_adjtime` are
    /// here because they also *read* the clock state (ntp status); setting it needs
    /// CAP_SYS_TIME, checked by the kernel. Setting the clock is the CAP_SYS_TIME group.
    static let time: [String] = [
        "time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
        "clock_getres_time64", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64",
        "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
        "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
        "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "adjtimex", "clock_adjtime",
        "clock_adjtime64",
    ]

    /// Memory management of the caller's own address space, memory locking (bounded by
    /// RLIMIT_MEMLOCK), anonymous files and memory protection keys.
    static let memory: [String] = [
        "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
        "remap_file_pages", "mlock", "mlock2", "mlockall", "munlock", "munlockall", "memfd_create",
        "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect", "mseal",
    ]

    /// Files, directories and file descriptors. Access control is the filesystem's and the
    /// mount namespace's job; `name_to_handle_at` only produces handles, opening them
    /// (`open_by_handle_at`) is the CAP_DAC_READ_SEARCH group.
    static let files: [String] = [
        "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3",
        "fcntl", "fcntl64", "ioctl", "flock", "lseek", "_llseek", "access", "faccessat",
        "faccessat2", "stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64",
        "newfstatat", "statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "cachestat", "chdir",
        "fchdir", "getcwd", "getdents", "getdents64", "mkdir", "mkdirat", "mknod", "mknodat",
        "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
        "unlink", "unlinkat", "readlink", "readlinkat", "name_to_handle_at", "umask", "chmod",
        "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat",
        "lchown", "lchown32", "truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate",
        "utime", "utimes", "utimensat", "utimensat_time64", "futimesat",
    ]

    /// Extended attributes (security.* and trusted.* are guarded by the kernel).
    static let xattrs: [String] = [
        "getxattr", "lgetxattr", "fgetxattr", "getxattrat", "listxattr", "llistxattr", "flistxattr",
        "listxattrat", "setxattr", "lsetxattr", "fsetxattr", "setxattrat", "removexattr",
        "lremovexattr", "fremovexattr", "removexattrat",
    ]

    /// Moving data through file descriptors, pipes, splicing, and flushing to disk.
    static let io: [String] = [
        "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
        "pwritev2", "pipe", "pipe2", "splice", "tee", "vmsplice", "sendfile", "sendfile64",
        "copy_file_range", "readahead", "fadvise64", "fadvise64_64", "fsync", "fdatasync", "sync",
        "syncfs", "sync_file_range",
    ]

    /// Waiting for file descriptors and events: poll/select/epoll, eventfd, inotify,
    /// fanotify marks (creating a fanotify group, `fanotify_init`, needs CAP_SYS_ADMIN) and
    /// Linux AIO. io_uring is deliberately absent, as upstream: it bypasses seccomp for the
    /// operations it performs and has been a rich source of kernel bugs.
    static let events: [String] = [
        "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
        "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "inotify_init",
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark", "io_setup",
        "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64",
    ]

    /// Sockets other than creating them (`socket` has its own rules below): the network
    /// namespace confines what they reach. `socketcall` is how 32-bit x86 multiplexes them.
    static let sockets: [String] = [
        "socketpair", "socketcall", "bind", "listen", "accept", "accept4", "connect", "shutdown",
        "getsockname", "getpeername", "getsockopt", "setsockopt", "send", "sendto", "sendmsg",
        "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
    ]

    /// System V and POSIX IPC, confined by the pod's IPC namespace.
    static let ipc: [String] = [
        "ipc", "msgget", "msgctl", "msgsnd", "msgrcv", "semget", "semctl", "semop", "semtimedop",
        "semtimedop_time64", "shmget", "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink",
        "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive", "mq_timedreceive_time64",
        "mq_notify", "mq_getsetattr",
    ]

    /// A process restricting itself further: nested seccomp filters, Landlock, and reading or
    /// setting its own LSM attributes.
    static let selfRestriction: [String] = [
        "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
        "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
    ]

    /// Reading facts about the system: kernel name and load, randomness, and (read-only)
    /// mount information of the container's own mount namespace.
    static let system: [String] = [
        "uname", "sysinfo", "getrandom", "statmount", "listmount",
    ]

    // MARK: - Rules with conditions

    /// socket(2) for every address family but AF_ALG and AF_VSOCK, as three single-condition
    /// rules (`< AF_ALG`, `== AF_ALG + 1`, `> AF_VSOCK`): two `!=` conditions on the same
    /// argument would be split into two rules that OR (see SeccompCompiler), allowing both.
    /// On 32-bit x86 socket() can also go through `socketcall`, which is allowed above.
    static let socket: [SeccompRule] = [
        SeccompRule(names: ["socket"], action: .allow, args: [SeccompArg(index: 0, value: afALG, op: .lessThan)]),
        SeccompRule(names: ["socket"], action: .allow, args: [SeccompArg(index: 0, value: afALG + 1, op: .equal)]),
        SeccompRule(names: ["socket"], action: .allow, args: [SeccompArg(index: 0, value: afVSOCK, op: .greaterThan)]),
    ]

    /// personality(2) only for the execution domains programs legitimately ask for:
    /// PER_LINUX (0), PER_LINUX32 (0x8, `linux32`), UNAME26 (0x20000), both (0x20008), and
    /// 0xffffffff, which only queries. Others (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE)
    /// weaken the process's own hardening.
    static let personality: [SeccompRule] = [0x0, 0x0008, 0x20000, 0x20008, 0xffff_ffff].map { value in
        SeccompRule(names: ["personality"], action: .allow, args: [SeccompArg(index: 0, value: value, op: .equal)])
    }

    /// Since Linux 4.8 seccomp filters are re-checked after a ptrace tracer changes a
    /// syscall, so tracing can no longer be used to escape the filter; containerd then
    /// allows ptrace (gdb, strace inside the container) without CAP_SYS_PTRACE.
    static let ptraceOnModernKernels: [SeccompRule] = [
        SeccompRule(names: ["process_vm_readv", "process_vm_writev", "ptrace"], action: .allow,
                    minKernel: SeccompKernelVersion(4, 8)),
    ]

    /// Syscalls that exist only on some architectures and that libc there needs (TLS setup,
    /// cache flushing, arch-specific variants of fadvise/sync_file_range).
    static let architectureSpecific: [SeccompRule] = [
        SeccompRule(names: ["sync_file_range2", "swapcontext"], action: .allow, arches: ["ppc64le"]),
        SeccompRule(names: ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint",
                            "cacheflush", "set_tls"], action: .allow, arches: ["arm", "arm64"]),
        SeccompRule(names: ["arch_prctl", "modify_ldt"], action: .allow, arches: ["amd64"]),
        SeccompRule(names: ["modify_ldt"], action: .allow, arches: ["x86"]),
        SeccompRule(names: ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"], action: .allow,
                    arches: ["s390", "s390x"]),
        SeccompRule(names: ["riscv_flush_icache", "riscv_hwprobe"], action: .allow, arches: ["riscv64"]),
    ]

    /// Syscalls whose only use is an operation the kernel allows with one capability: when
    /// the container has it, seccomp stops standing in the way; without it, they fail with
    /// EPERM before reaching code the kernel would have refused anyway (less attack surface).
    static let capabilityGated: [SeccompRule] = [
        // Opening files by handle bypasses path-based access checks (the "shocker" escape).
        gated("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        // Mounts, namespaces, hostname, BPF, perf, quotas, kernel log, and clone/clone3
        // without the flag restriction below.
        gated("CAP_SYS_ADMIN", [
            "bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick",
            "lookup_dcookie", "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open",
            "quotactl", "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
            "umount2", "unshare",
        ]),
        gated("CAP_SYS_BOOT", ["reboot"]),
        gated("CAP_SYS_CHROOT", ["chroot"]),
        gated("CAP_SYS_MODULE", ["delete_module", "init_module", "finit_module"]),
        gated("CAP_SYS_PACCT", ["acct"]),
        gated("CAP_SYS_PTRACE", [
            "kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace",
        ]),
        gated("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        gated("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64"]),
        gated("CAP_SYS_TTY_CONFIG", ["vhangup"]),
        gated("CAP_SYS_NICE", ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"]),
        gated("CAP_SYSLOG", ["syslog"]),
        gated("CAP_BPF", ["bpf"]),
        gated("CAP_PERFMON", ["perf_event_open"]),
    ]

    private static func gated(_ capability: String, _ names: [String]) -> SeccompRule {
        SeccompRule(names: names, action: .allow, includeCaps: [capability])
    }

    /// Without CAP_SYS_ADMIN, clone(2) is allowed only without namespace flags (the flags are
    /// the second argument on s390), and clone3(2) fails with ENOSYS rather than EPERM: its
    /// flags live in a struct seccomp cannot read, and ENOSYS makes glibc fall back to
    /// clone(2), where the flags are checked (https://github.com/moby/moby/pull/42681).
    static let withoutSysAdmin: [SeccompRule] = [
        SeccompRule(names: ["clone"], action: .allow,
                    args: [SeccompArg(index: 0, value: cloneNamespaceFlags, valueTwo: 0, op: .maskedEqual)],
                    excludeCaps: ["CAP_SYS_ADMIN"], excludeArches: ["s390", "s390x"]),
        SeccompRule(names: ["clone"], action: .allow,
                    args: [SeccompArg(index: 1, value: cloneNamespaceFlags, valueTwo: 0, op: .maskedEqual)],
                    excludeCaps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"]),
        SeccompRule(names: ["clone3"], action: .errno(ENOSYS), excludeCaps: ["CAP_SYS_ADMIN"], errnoRet: ENOSYS),
    ]
}
