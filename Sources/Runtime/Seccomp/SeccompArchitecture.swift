/// The architecture names seccomp profiles use, and the host's.
///
/// Profiles name architectures two ways: the filter's `architectures` / `archMap` use
/// libseccomp's `SCMP_ARCH_*` names, while the conditions `includes.arches` /
/// `excludes.arches` compare the *host* architecture by its Docker (Go-like) name such as
/// `amd64`. The table is runc's (`libcontainer/seccomp/config.go`).
public enum SeccompArchitecture {
    /// `SCMP_ARCH_*` name → Docker name, for every architecture runc knows.
    public static let dockerNames: [String: String] = [
        "SCMP_ARCH_X86": "x86",
        "SCMP_ARCH_X86_64": "amd64",
        "SCMP_ARCH_X32": "x32",
        "SCMP_ARCH_ARM": "arm",
        "SCMP_ARCH_AARCH64": "arm64",
        "SCMP_ARCH_MIPS": "mips",
        "SCMP_ARCH_MIPS64": "mips64",
        "SCMP_ARCH_MIPS64N32": "mips64n32",
        "SCMP_ARCH_MIPSEL": "mipsel",
        "SCMP_ARCH_MIPSEL64": "mipsel64",
        "SCMP_ARCH_MIPSEL64N32": "mipsel64n32",
        "SCMP_ARCH_PPC": "ppc",
        "SCMP_ARCH_PPC64": "ppc64",
        "SCMP_ARCH_PPC64LE": "ppc64le",
        "SCMP_ARCH_RISCV64": "riscv64",
        "SCMP_ARCH_S390": "s390",
        "SCMP_ARCH_S390X": "s390x",
        "SCMP_ARCH_LOONGARCH64": "loong64",
    ]

    /// The `SCMP_ARCH_*` name of the architecture swiftlet was built for (what Go calls
    /// `runtime.GOARCH`, which containerd and moby key their choices on).
    public static let hostSeccompName: String = {
        #if arch(x86_64)
        return "SCMP_ARCH_X86_64"
        #elseif arch(arm64)
        return "SCMP_ARCH_AARCH64"
        #elseif arch(i386)
        return "SCMP_ARCH_X86"
        #elseif arch(arm)
        return "SCMP_ARCH_ARM"
        #elseif arch(powerpc64le)
        return "SCMP_ARCH_PPC64LE"
        #elseif arch(powerpc64)
        return "SCMP_ARCH_PPC64"
        #elseif arch(s390x)
        return "SCMP_ARCH_S390X"
        #elseif arch(riscv64)
        return "SCMP_ARCH_RISCV64"
        #else
        return "SCMP_ARCH_NATIVE"
        #endif
    }()

    /// The host's Docker architecture name (`amd64`, `arm64`, ...), what rule conditions
    /// compare against.
    public static var hostDockerName: String {
        dockerNames[hostSeccompName] ?? "unknown"
    }

    /// libseccomp's own spelling of an `SCMP_ARCH_*` name, for `seccomp_arch_resolve_name`
    /// (`SCMP_ARCH_X86_64` → `x86_64`).
    static func libseccompName(_ seccompName: String) -> String {
        String(seccompName.dropFirst("SCMP_ARCH_".count)).lowercased()
    }
}
