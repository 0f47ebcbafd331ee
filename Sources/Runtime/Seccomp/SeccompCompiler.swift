import CShims

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// Compiling a profile to the raw BPF program the container's child loads.
//
// The spawn path is C between clone and execve and must not allocate, so libseccomp (which
// allocates) runs here in the parent: the filter is built, exported with
// seccomp_export_bpf into a temporary file and read back as bytes. The child only does
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &(struct sock_fprog){ len, bytes }).
//
// The translation follows runc's libcontainer/seccomp/seccomp_linux.go (InitSeccomp and
// matchCall), which is what containerd and CRI-O hand profiles to:
// https://github.com/opencontainers/runc/blob/main/libcontainer/seccomp/seccomp_linux.go

extension SeccompProfile {
    /// Compile for a container whose effective capabilities are `capabilities` (names like
    /// "CAP_SYS_ADMIN"), on this host's architecture and running kernel.
    /// Returns raw BPF: an array of `struct sock_filter` (8 bytes each, host byte order),
    /// ready for PR_SET_SECCOMP: `sock_fprog.len` is `bytes.count / 8`.
    ///
    /// The filter does not set no_new_privs (the child decides that from
    /// `allowPrivilegeEscalation`); without it the kernel only accepts the filter from a
    /// process with CAP_SYS_ADMIN, so the child must load it before dropping capabilities.
    ///
    /// Syscall names this libseccomp does not know (newer than it) are skipped, as runc does;
    /// those syscalls get the default action.
    ///
    /// - Throws: `SeccompError` naming the libseccomp call that failed.
    public func compile(capabilities: Set<String>) throws -> [UInt8] {
        try compile(capabilities: capabilities, arch: SeccompArchitecture.hostDockerName, kernel: .running)
    }

    /// `compile(capabilities:)` for a given host architecture (Docker name) and kernel, so
    /// tests can pin both.
    func compile(capabilities: Set<String>, arch: String, kernel: SeccompKernelVersion?) throws -> [UInt8] {
        let filter = try SeccompCompiler(profile: self, capabilities: capabilities, arch: arch, kernel: kernel)
        return try filter.export(call: "seccomp_export_bpf", seccomp_export_bpf)
    }

    /// The filter as libseccomp's pseudo filter code (`seccomp_export_pfc`): readable text
    /// with one `# filter for syscall "name"` block per syscall and architecture, for tests
    /// and debugging.
    func pfc(
        capabilities: Set<String>,
        arch: String = SeccompArchitecture.hostDockerName,
        kernel: SeccompKernelVersion? = .running
    ) throws -> String {
        let filter = try SeccompCompiler(profile: self, capabilities: capabilities, arch: arch, kernel: kernel)
        let bytes = try filter.export(call: "seccomp_export_pfc", seccomp_export_pfc)
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A libseccomp filter context built from a profile; released when this goes away.
/// Used on one thread only, between building the filter and exporting it.
final class SeccompCompiler {
    private let context: scmp_filter_ctx
    /// Syscall names of applicable rules that this libseccomp could not resolve.
    private(set) var skippedSyscalls: [String] = []

    /// runc enables libseccomp's binary-tree optimisation above this many syscall entries
    /// (libseccomp ≤ 2.5.4 misbehaves with it on an empty filter).
    private static let binaryTreeThreshold = 32

    init(profile: SeccompProfile, capabilities: Set<String>, arch: String, kernel: SeccompKernelVersion?) throws {
        let rules = try profile.applicableRules(capabilities: capabilities, arch: arch, kernel: kernel)
        let defaultAction = Self.native(profile.defaultAction)
        guard let context = seccomp_init(defaultAction) else {
            throw SeccompError.libseccomp(call: "seccomp_init(\(profile.defaultAction))", errno: EINVAL)
        }
        self.context = context

        // runc turns NO_NEW_PRIVS off: whether the container gets no_new_privs is the spawn
        // code's decision (allowPrivilegeEscalation), not a side effect of seccomp.
        try setAttribute(SCMP_FLTATR_CTL_NNP, 0, name: "SCMP_FLTATR_CTL_NNP")
        // A syscall from an architecture the filter does not cover kills the thread: runc
        // leaves libseccomp's default (SCMP_ACT_KILL, i.e. KILL_THREAD); we state it.
        try setAttribute(SCMP_FLTATR_ACT_BADARCH, Self.native(.kill), name: "SCMP_FLTATR_ACT_BADARCH")
        if rules.reduce(0, { $0 + $1.names.count }) > Self.binaryTreeThreshold {
            try setAttribute(SCMP_FLTATR_CTL_OPTIMIZE, 2, name: "SCMP_FLTATR_CTL_OPTIMIZE")
        }

        // Architectures first, so that every rule is added for all of them.
        for name in profile.architectures {
            let token = seccomp_arch_resolve_name(SeccompArchitecture.libseccompName(name))
            guard token != 0 else {
                throw SeccompError.invalidProfile(
                    field: "architectures", problem: "\(name) is not known to this libseccomp")
            }
            let result = seccomp_arch_add(context, token)
            // The native architecture is in every new filter already.
            if result < 0 && result != -EEXIST {
                throw SeccompError.libseccomp(call: "seccomp_arch_add(\(name))", errno: -result)
            }
        }

        for rule in rules {
            try add(rule, defaultAction: defaultAction)
        }
    }

    deinit {
        seccomp_release(context)
    }

    private func setAttribute(_ attribute: scmp_filter_attr, _ value: UInt32, name: String) throws {
        let result = seccomp_attr_set(context, attribute, value)
        if result < 0 {
            throw SeccompError.libseccomp(call: "seccomp_attr_set(\(name))", errno: -result)
        }
    }

    /// One rule, one libseccomp rule per syscall name, as runc's matchCall.
    private func add(_ rule: SeccompRule, defaultAction: UInt32) throws {
        let action = Self.native(rule.effectiveAction)
        // libseccomp refuses a rule whose action is the default one; it would change nothing.
        if action == defaultAction { return }

        let conditions = rule.args.map { arg in
            scmp_arg_cmp(arg: arg.index, op: Self.native(arg.op), datum_a: arg.value, datum_b: arg.valueTwo)
        }
        // libseccomp ANDs the conditions of one rule but cannot hold two conditions on the same
        // argument; runc then adds one rule per condition, which ORs them. Same here, so a
        // profile means the same under both.
        let indexes = rule.args.map(\.index)
        let groups = Set(indexes).count == indexes.count ? [conditions] : conditions.map { [$0] }

        for name in rule.names {
            let number = seccomp_syscall_resolve_name(name)
            guard number != __NR_SCMP_ERROR else {
                // Newer than this libseccomp (or misspelled): runc logs and skips it too.
                skippedSyscalls.append(name)
                continue
            }
            for group in groups {
                let result = group.withUnsafeBufferPointer { buffer in
                    seccomp_rule_add_array(context, action, number, UInt32(buffer.count), buffer.baseAddress)
                }
                if result < 0 {
                    throw SeccompError.libseccomp(call: "seccomp_rule_add(\(name))", errno: -result)
                }
            }
        }
    }

    /// Runs one of libseccomp's `seccomp_export_*` functions into an anonymous temporary file
    /// and returns what it wrote (in libseccomp 2.5 they only write to file descriptors).
    /// Not a pipe: the pseudo code of a big profile outgrows a pipe's buffer and would block.
    /// Not memfd_create: Swift's Glibc module does not declare it (no _GNU_SOURCE).
    func export(
        call: String,
        _ exporter: (scmp_filter_ctx?, Int32) -> Int32
    ) throws -> [UInt8] {
        guard let file = tmpfile() else {
            throw SeccompError.system(call: "tmpfile() for \(call)", errno: errno)
        }
        defer { fclose(file) }
        let fd = fileno(file)

        let result: Int32 = exporter(context, fd)
        if result < 0 { throw SeccompError.libseccomp(call: call, errno: -result) }

        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SeccompError.system(call: "pread(temporary file of \(call))", errno: errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            offset += off_t(count)
        }
    }

    // MARK: - libseccomp constants
    // Spelled out because <seccomp.h> defines the actions as macros Swift cannot import
    // (SCMP_ACT_ERRNO(x) takes an argument).

    static func native(_ action: SeccompAction) -> UInt32 {
        switch action {
        case .allow: return 0x7fff_0000  // SCMP_ACT_ALLOW
        case .errno(let value): return 0x0005_0000 | (UInt32(bitPattern: value) & 0xffff)  // SCMP_ACT_ERRNO(x)
        case .kill: return 0x0000_0000  // SCMP_ACT_KILL_THREAD
        case .killProcess: return 0x8000_0000  // SCMP_ACT_KILL_PROCESS
        case .trap: return 0x0003_0000  // SCMP_ACT_TRAP
        case .log: return 0x7ffc_0000  // SCMP_ACT_LOG
        }
    }

    private static func native(_ op: SeccompArg.Op) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equal: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }
}
