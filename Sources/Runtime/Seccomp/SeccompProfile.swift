// A seccomp profile as data: what Kubernetes calls `RuntimeDefault` (containerd's default
// profile, see SeccompProfile+Default.swift) or a `Localhost` profile read from
// /var/lib/kubelet/seccomp (SeccompProfile+JSON.swift). Rules keep the Docker/moby
// conditions (capabilities, host architecture, kernel version) and are only resolved when a
// container's filter is compiled (SeccompCompiler.swift), because the answer depends on the
// container's capabilities.

/// What the kernel does when a syscall matches a rule (or no rule: the default action).
///
/// The cases mirror libseccomp's `SCMP_ACT_*` actions that make sense for a container.
/// `SCMP_ACT_TRACE` and `SCMP_ACT_NOTIFY` are not supported: they need a tracer or a
/// notification listener, and swiftlet has neither.
public enum SeccompAction: Sendable, Equatable {
    /// Let the syscall run (`SCMP_ACT_ALLOW`).
    case allow
    /// Fail the syscall with this errno (`SCMP_ACT_ERRNO`), e.g. `EPERM` or `ENOSYS`.
    case errno(Int32)
    /// Kill the calling thread (`SCMP_ACT_KILL`, also spelled `SCMP_ACT_KILL_THREAD`).
    case kill
    /// Kill the whole process (`SCMP_ACT_KILL_PROCESS`).
    case killProcess
    /// Send `SIGSYS` to the calling thread (`SCMP_ACT_TRAP`).
    case trap
    /// Allow the syscall and log it to the audit log (`SCMP_ACT_LOG`).
    case log
}

/// A condition on one syscall argument, as in the OCI runtime spec (`LinuxSeccompArg`).
public struct SeccompArg: Sendable, Equatable {
    /// A comparison, named after libseccomp's `SCMP_CMP_*` operators.
    public enum Op: Sendable, Equatable {
        case notEqual, lessThan, lessOrEqual, equal, greaterOrEqual, greaterThan
        /// `(argument & value) == valueTwo`: `value` is the mask (OCI and libseccomp order).
        case maskedEqual
    }

    /// Which argument (0...5) is compared.
    public var index: UInt32
    /// The operand; for `.maskedEqual`, the mask.
    public var value: UInt64
    /// Only used by `.maskedEqual`: the value the masked argument must equal.
    public var valueTwo: UInt64
    /// The comparison.
    public var op: Op

    /// A condition `argument[index] op value` (`valueTwo` only matters for `.maskedEqual`).
    public init(index: UInt32, value: UInt64, valueTwo: UInt64 = 0, op: Op) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}

/// One entry of a profile's `syscalls` list, with the Docker/moby conditions under which it
/// applies (`includes` / `excludes` in the JSON format).
///
/// A rule applies when the container has *all* of `includeCaps`, *none* of `excludeCaps`,
/// the host architecture is in `arches` (if not empty) and not in `excludeArches`, the
/// running kernel is at least `minKernel` (if set) and below `excludeMinKernel` (if set).
/// This is moby's `setupSeccomp` logic, see
/// https://github.com/moby/profiles/blob/main/seccomp/seccomp_linux.go
public struct SeccompRule: Sendable, Equatable {
    /// Syscall names (`read`, `clone3`, ...). Names this libseccomp does not know are skipped.
    public var names: [String]
    /// What happens when a named syscall is called and all `args` conditions hold.
    public var action: SeccompAction
    /// Conditions on the arguments; all must hold (but see `SeccompCompiler` for the runc rule
    /// about repeated argument indexes).
    public var args: [SeccompArg]
    /// Capabilities (`CAP_SYS_ADMIN`, ...) the container must all have for the rule to apply.
    public var includeCaps: [String]
    /// Capabilities of which any one present drops the rule.
    public var excludeCaps: [String]
    /// Host architectures (Docker names: `amd64`, `arm64`, `x86`, `s390x`, ...) the rule is
    /// limited to; empty means every architecture.
    public var arches: [String]
    /// Host architectures on which the rule is dropped.
    public var excludeArches: [String]
    /// The rule applies only on kernels at least this version (`includes.minKernel`).
    public var minKernel: SeccompKernelVersion?
    /// The rule is dropped on kernels at least this version (`excludes.minKernel`).
    public var excludeMinKernel: SeccompKernelVersion?
    /// The OCI `errnoRet` field: when set, the errno returned by an `.errno` action.
    public var errnoRet: Int32?

    /// A rule; everything but the names and the action defaults to "unconditional".
    public init(
        names: [String],
        action: SeccompAction,
        args: [SeccompArg] = [],
        includeCaps: [String] = [],
        excludeCaps: [String] = [],
        arches: [String] = [],
        excludeArches: [String] = [],
        minKernel: SeccompKernelVersion? = nil,
        excludeMinKernel: SeccompKernelVersion? = nil,
        errnoRet: Int32? = nil
    ) {
        self.names = names
        self.action = action
        self.args = args
        self.includeCaps = includeCaps
        self.excludeCaps = excludeCaps
        self.arches = arches
        self.excludeArches = excludeArches
        self.minKernel = minKernel
        self.excludeMinKernel = excludeMinKernel
        self.errnoRet = errnoRet
    }

    /// The action with `errnoRet` applied, as runc does (`getAction(act, errnoRet)`).
    public var effectiveAction: SeccompAction {
        if case .errno = action, let errnoRet { return .errno(errnoRet) }
        return action
    }

    /// Whether the rule applies to a container with `capabilities` on a host of architecture
    /// `arch` (a Docker name such as `amd64`) running `kernel`.
    ///
    /// `kernel` is only consulted by rules with a kernel condition; if it is nil there, the
    /// rule is an error rather than a guess, as in moby.
    func applies(capabilities: Set<String>, arch: String, kernel: SeccompKernelVersion?) throws -> Bool {
        if excludeArches.contains(arch) { return false }
        if excludeCaps.contains(where: capabilities.contains) { return false }
        if let excludeMinKernel, try Self.kernel(kernel, rule: self) >= excludeMinKernel { return false }
        if !arches.isEmpty && !arches.contains(arch) { return false }
        if !includeCaps.allSatisfy(capabilities.contains) { return false }
        if let minKernel, try Self.kernel(kernel, rule: self) < minKernel { return false }
        return true
    }

    private static func kernel(_ kernel: SeccompKernelVersion?, rule: SeccompRule) throws -> SeccompKernelVersion {
        guard let kernel else {
            throw SeccompError.unknownKernelVersion(syscalls: rule.names)
        }
        return kernel
    }
}

/// A seccomp profile: a default action, the architectures the filter covers and the rules.
///
/// Build one from JSON (`init(json:)`), use `runtimeDefault`, and turn it into the BPF program
/// a container loads with `compile(capabilities:)`.
public struct SeccompProfile: Sendable, Equatable {
    /// What happens to syscalls no rule matches (`.errno(EPERM)` for `runtimeDefault`).
    public var defaultAction: SeccompAction
    /// libseccomp architecture names (`SCMP_ARCH_X86_64`, `SCMP_ARCH_X86`, ...) the filter
    /// covers. The native architecture is always covered; empty means native only.
    public var architectures: [String]
    /// The rules, in profile order.
    public var rules: [SeccompRule]

    /// A profile from its parts.
    public init(defaultAction: SeccompAction, architectures: [String] = [], rules: [SeccompRule]) {
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.rules = rules
    }

    /// The rules that apply to a container with `capabilities` on a host of architecture `arch`
    /// (Docker name, e.g. `amd64`) running `kernel`, in profile order.
    ///
    /// - Throws: `SeccompError.unknownKernelVersion` if a rule depends on the kernel version
    ///   and `kernel` is nil.
    public func applicableRules(
        capabilities: Set<String>,
        arch: String = SeccompArchitecture.hostDockerName,
        kernel: SeccompKernelVersion? = SeccompKernelVersion.running
    ) throws -> [SeccompRule] {
        try rules.filter { try $0.applies(capabilities: capabilities, arch: arch, kernel: kernel) }
    }
}
