import CShims
import Foundation
import Testing
import TestSupport

@testable import Runtime

// No root needed: profiles are compiled to BPF in memory and checked two ways, through
// libseccomp's pseudo filter code (what libseccomp thinks it built) and by running the
// exported BPF bytes on an interpreter (what the kernel would execute).

/// containerd's default capability set (what a pod gets without `securityContext`), from
/// containerd's pkg/oci/spec.go `populateDefaultUnixSpec`.
private let containerdDefaultCaps: Set<String> = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]
private let modernKernel = SeccompKernelVersion(6, 1)

// MARK: - Results of the filter

private let allow: UInt32 = 0x7fff_0000
private let eperm: UInt32 = 0x0005_0000 | UInt32(EPERM)
private let enosys: UInt32 = 0x0005_0000 | UInt32(ENOSYS)
private let killThread: UInt32 = 0

private let x86_64 = seccomp_arch_resolve_name("x86_64")
private let x86 = seccomp_arch_resolve_name("x86")
private let x32 = seccomp_arch_resolve_name("x32")

/// A syscall as the filter sees it (`struct seccomp_data`).
private struct Call {
    var nr: Int32
    var arch: UInt32
    var args: [UInt64] = []

    /// `name` as called by an x86_64 process (or x86 / x32 when `abi` says so).
    init(_ name: String, abi: UInt32 = x86_64, _ args: UInt64...) throws {
        let number = seccomp_syscall_resolve_name_arch(abi, name)
        try #require(number >= 0, "libseccomp does not know \(name)")
        self.nr = number
        // x32 processes enter through the x86_64 syscall ABI, with bit 30 set in the number.
        self.arch = abi == x32 ? x86_64 : abi
        self.args = args
    }

    init(nr: Int32, arch: UInt32) {
        self.nr = nr
        self.arch = arch
    }

    /// The 64-byte `struct seccomp_data`, host byte order (little-endian on x86).
    var data: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64)
        func put32(_ value: UInt32, at offset: Int) {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        put32(UInt32(bitPattern: nr), at: 0)
        put32(arch, at: 4)
        for (index, arg) in args.enumerated() {
            put32(UInt32(truncatingIfNeeded: arg), at: 16 + 8 * index)
            put32(UInt32(truncatingIfNeeded: arg >> 32), at: 20 + 8 * index)
        }
        return bytes
    }
}

/// Runs a classic BPF program (as exported by libseccomp) on one syscall, like the kernel's
/// seccomp does; nil (with a recorded issue) for an instruction it does not know.
private func run(_ program: [UInt8], _ call: Call) -> UInt32? {
    struct Instruction { var code: UInt16; var jt: UInt8; var jf: UInt8; var k: UInt32 }
    let instructions = stride(from: 0, to: program.count, by: 8).map { offset in
        let b = program[offset..<offset + 8].map { UInt32($0) }
        return Instruction(code: UInt16(b[0] | b[1] << 8), jt: UInt8(b[2]), jf: UInt8(b[3]),
                           k: b[4] | b[5] << 8 | b[6] << 16 | b[7] << 24)
    }
    let data = call.data
    func load(_ offset: UInt32) -> UInt32 {
        let o = Int(offset)
        return (0..<4).reduce(0) { $0 | UInt32(data[o + $1]) << (8 * UInt32($1)) }
    }
    var a: UInt32 = 0, x: UInt32 = 0, memory = [UInt32](repeating: 0, count: 16), pc = 0
    while pc < instructions.count {
        let i = instructions[pc]
        pc += 1
        let operand = i.code & 0x08 != 0 ? x : i.k
        switch i.code & 0x07 {
        case 0x00:  // BPF_LD
            switch i.code & 0xe0 {
            case 0x20: a = load(i.k)  // ABS (BPF_W)
            case 0x00: a = i.k  // IMM
            case 0x60: a = memory[Int(i.k)]  // MEM
            default: Issue.record("unknown BPF_LD \(i.code)"); return nil
            }
        case 0x01: x = i.code & 0xe0 == 0x60 ? memory[Int(i.k)] : i.k  // BPF_LDX
        case 0x02: memory[Int(i.k)] = a  // BPF_ST
        case 0x03: memory[Int(i.k)] = x  // BPF_STX
        case 0x04:  // BPF_ALU
            switch i.code & 0xf0 {
            case 0x00: a = a &+ operand
            case 0x10: a = a &- operand
            case 0x40: a |= operand
            case 0x50: a &= operand
            case 0x60: a = a << operand
            case 0x70: a = a >> operand
            default: Issue.record("unknown BPF_ALU \(i.code)"); return nil
            }
        case 0x05:  // BPF_JMP
            let taken: Bool
            switch i.code & 0xf0 {
            case 0x00: pc += Int(i.k); continue  // JA
            case 0x10: taken = a == operand
            case 0x20: taken = a > operand
            case 0x30: taken = a >= operand
            case 0x40: taken = a & operand != 0
            default: Issue.record("unknown BPF_JMP \(i.code)"); return nil
            }
            pc += Int(taken ? i.jt : i.jf)
        case 0x06: return i.code & 0x18 == 0x10 ? a : i.k  // BPF_RET A or K
        case 0x07: if i.code & 0xf8 == 0 { x = a } else { a = x }  // BPF_MISC TAX / TXA
        default: Issue.record("unknown BPF class \(i.code)"); return nil
        }
    }
    Issue.record("BPF program fell off its end")
    return nil
}

private func compileDefault(_ caps: Set<String>, kernel: SeccompKernelVersion = modernKernel) throws -> [UInt8] {
    try SeccompProfile.runtimeDefault.compile(capabilities: caps, arch: "amd64", kernel: kernel)
}

// MARK: - Pseudo filter code

/// The blocks of libseccomp's pseudo filter code for the x86_64 section: syscall name →
/// the lines under `# filter for syscall "name"`, trimmed.
private func x86_64Blocks(_ pfc: String) -> [String: [String]] {
    let lines = pfc.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(where: { $0.hasPrefix("# filter for arch x86_64") }) else { return [:] }
    let end = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("# filter for arch") || $0.hasPrefix("# invalid") })
        ?? lines.endIndex
    var blocks: [String: [String]] = [:]
    var index = start
    while index < end {
        let line = lines[index]
        let indent = line.prefix(while: { $0 == " " }).count
        guard let nameStart = line.range(of: "# filter for syscall \""),
              let nameEnd = line[nameStart.upperBound...].firstIndex(of: "\"")
        else { index += 1; continue }
        let name = String(line[nameStart.upperBound..<nameEnd])
        // The `if ($syscall == N)` line at the marker's indentation, then its deeper body.
        var body = [lines[index + 1].trimmingCharacters(in: .whitespaces)]
        index += 2
        while index < end, lines[index].prefix(while: { $0 == " " }).count > indent {
            body.append(lines[index].trimmingCharacters(in: .whitespaces))
            index += 1
        }
        blocks[name] = body
    }
    return blocks
}

private enum Verdict: Equatable { case allowed, defaultAction, conditional, other }

private func verdict(_ name: String, in blocks: [String: [String]]) -> Verdict {
    guard let body = blocks[name] else { return .defaultAction }
    if body.count == 2 && body[1] == "action ALLOW;" { return .allowed }
    if body.contains(where: { $0.hasPrefix("if ($a") }) { return .conditional }
    return .other
}

// Compiling profiles with libseccomp is seconds of CPU per test: on Swift's cooperative pool
// (two threads here) these suites stalled every other test for 16-21 s at the start of each
// full run (issue 20), so they run on threads of their own.
@Suite("Seccomp profiles", .ownThreads)
struct SeccompProfileTests {
    // MARK: RuntimeDefault through libseccomp's eyes

    @Test func compiledDefaultIsWholeSockFilters() throws {
        let bytes = try SeccompProfile.runtimeDefault.compile(capabilities: containerdDefaultCaps)
        #expect(!bytes.isEmpty)
        #expect(bytes.count % 8 == 0)
        #expect(bytes.count / 8 <= 4096, "BPF_MAXINSNS: the kernel refuses longer programs")
    }

    @Test func defaultActionIsEPERMAndBadArchKills() throws {
        let pfc = try SeccompProfile.runtimeDefault.pfc(capabilities: [], arch: "amd64", kernel: modernKernel)
        #expect(pfc.contains("# default action\n  action ERRNO(1);"))
        #expect(pfc.contains("# invalid architecture action\naction KILL;"))
        for arch in ["x86_64", "x86", "x32"] {
            #expect(pfc.contains("# filter for arch \(arch) "), "filter covers \(arch)")
        }
    }

    @Test func adminSyscallsNeedCapSysAdmin() throws {
        let without = x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(capabilities: containerdDefaultCaps, arch: "amd64"))
        let with = x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(
            capabilities: containerdDefaultCaps.union(["CAP_SYS_ADMIN"]), arch: "amd64"))
        for name in ["mount", "umount2", "unshare", "setns", "sethostname", "bpf"] {
            #expect(verdict(name, in: without) == .defaultAction, "\(name) without CAP_SYS_ADMIN")
            #expect(verdict(name, in: with) == .allowed, "\(name) with CAP_SYS_ADMIN")
        }
        // With CAP_SYS_ADMIN clone is unconditional and clone3 allowed; without, see below.
        #expect(verdict("clone", in: with) == .allowed)
        #expect(verdict("clone3", in: with) == .allowed)
    }

    @Test func ptraceFollowsContainerdKernelRule() throws {
        // containerd allows ptrace without CAP_SYS_PTRACE on kernels >= 4.8 (seccomp is
        // re-checked after the tracer's changes since then), and only with it before.
        func blocks(_ caps: Set<String>, _ kernel: SeccompKernelVersion) throws -> [String: [String]] {
            x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(capabilities: caps, arch: "amd64", kernel: kernel))
        }
        let old = SeccompKernelVersion(4, 4)
        #expect(verdict("ptrace", in: try blocks([], old)) == .defaultAction)
        #expect(verdict("ptrace", in: try blocks(["CAP_SYS_PTRACE"], old)) == .allowed)
        #expect(verdict("ptrace", in: try blocks([], SeccompKernelVersion(4, 8))) == .allowed)
        #expect(verdict("ptrace", in: try blocks([], modernKernel)) == .allowed)
        // kcmp and pidfd_getfd stay behind CAP_SYS_PTRACE on every kernel.
        #expect(verdict("kcmp", in: try blocks([], modernKernel)) == .defaultAction)
        #expect(verdict("pidfd_getfd", in: try blocks(["CAP_SYS_PTRACE"], modernKernel)) == .allowed)
    }

    @Test func capabilityGroups() throws {
        let none = x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(capabilities: containerdDefaultCaps, arch: "amd64"))
        let groups: [(String, [String])] = [
            ("CAP_SYS_BOOT", ["reboot"]), ("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]),
            ("CAP_SYS_TIME", ["settimeofday", "clock_settime"]), ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
            ("CAP_SYS_PACCT", ["acct"]), ("CAP_SYS_TTY_CONFIG", ["vhangup"]), ("CAP_SYSLOG", ["syslog"]),
            ("CAP_SYS_NICE", ["mbind", "set_mempolicy"]), ("CAP_BPF", ["bpf"]), ("CAP_PERFMON", ["perf_event_open"]),
            ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ]
        for (cap, names) in groups {
            let with = x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(
                capabilities: containerdDefaultCaps.union([cap]), arch: "amd64"))
            for name in names {
                #expect(verdict(name, in: none) == .defaultAction, "\(name) without \(cap)")
                #expect(verdict(name, in: with) == .allowed, "\(name) with \(cap)")
            }
        }
        // chroot is in containerd's default capability set, hence allowed by default.
        #expect(verdict("chroot", in: none) == .allowed)
    }

    @Test func everydaySyscallsAllowedAndKeysDenied() throws {
        let blocks = x86_64Blocks(try SeccompProfile.runtimeDefault.pfc(capabilities: containerdDefaultCaps, arch: "amd64"))
        for name in ["read", "write", "execve", "openat", "mmap", "futex", "exit_group", "arch_prctl", "epoll_wait"] {
            #expect(verdict(name, in: blocks) == .allowed, "\(name)")
        }
        #expect(verdict("clone", in: blocks) == .conditional)
        #expect(verdict("socket", in: blocks) == .conditional)
        for name in ["keyctl", "add_key", "request_key", "io_uring_setup", "userfaultfd", "kexec_load", "swapon"] {
            #expect(verdict(name, in: blocks) == .defaultAction, "\(name)")
        }
        #expect(blocks["clone3"] == ["if ($syscall == 435)", "action ERRNO(38);"])
    }

    // MARK: RuntimeDefault as the kernel would run it

    @Test func cloneNamespaceFlagsNeedCapSysAdmin() throws {
        let filter = try compileDefault(containerdDefaultCaps)
        let sigchld: UInt64 = 17
        let thread: UInt64 = 0x3d0f00  // glibc pthread_create's CLONE_VM|CLONE_FS|...|CLONE_THREAD
        #expect(run(filter, try Call("clone", sigchld)) == allow)
        #expect(run(filter, try Call("clone", thread)) == allow)
        for flag: UInt64 in [0x1000_0000, 0x2000_0000, 0x4000_0000, 0x0002_0000, 0x0400_0000, 0x0800_0000, 0x0200_0000] {
            #expect(run(filter, try Call("clone", flag | sigchld)) == eperm, "clone with 0x\(String(flag, radix: 16))")
        }
        #expect(run(filter, try Call("clone3")) == enosys)
        #expect(run(filter, try Call("clone", abi: x86, 0x1000_0000 | sigchld)) == eperm, "32-bit x86 too")

        let admin = try compileDefault(containerdDefaultCaps.union(["CAP_SYS_ADMIN"]))
        #expect(run(admin, try Call("clone", 0x1000_0000 | sigchld)) == allow)
        #expect(run(admin, try Call("clone3")) == allow)
    }

    @Test func argumentRulesAndArchitectures() throws {
        let filter = try compileDefault(containerdDefaultCaps)
        // socket: every family but AF_ALG (38) and AF_VSOCK (40).
        for family: UInt64 in [1, 2, 10, 16, 17, 39, 41, 44] {
            #expect(run(filter, try Call("socket", family, 1)) == allow, "socket(\(family))")
        }
        #expect(run(filter, try Call("socket", 38, 5)) == eperm)
        #expect(run(filter, try Call("socket", 40, 1)) == eperm)
        // personality: the five upstream values only, compared on all 64 bits.
        for persona: UInt64 in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            #expect(run(filter, try Call("personality", persona)) == allow, "personality(\(persona))")
        }
        #expect(run(filter, try Call("personality", 0x0040000)) == eperm, "ADDR_NO_RANDOMIZE")
        #expect(run(filter, try Call("personality", 0x1_0000_0000)) == eperm)
        // The same policy for 32-bit x86 and x32 callers; other architectures are killed.
        #expect(run(filter, try Call("read", abi: x86)) == allow)
        #expect(run(filter, try Call("mount", abi: x86)) == eperm)
        #expect(run(filter, try Call("socketcall", abi: x86)) == allow)
        #expect(run(filter, try Call("read", abi: x32)) == allow)
        #expect(run(filter, try Call("keyctl", abi: x32)) == eperm)
        #expect(run(filter, Call(nr: 63, arch: 0xc000_00b7)) == killThread, "an aarch64 syscall")
        for name in ["mount", "keyctl", "add_key", "reboot", "kexec_load"] {
            #expect(run(filter, try Call(name)) == eperm, "\(name)")
        }
    }

    // MARK: The data against upstream

    @Test func ruleCountsMatchContainerd() throws {
        let profile = SeccompProfile.runtimeDefault
        // containerd's DefaultProfile: 1 allow list + 3 socket + 5 personality + 1 ptrace
        // (kernel >= 4.8) + 6 GOARCH cases (ppc64le, arm/arm64, amd64, 386, s390/s390x,
        // riscv64) + 14 capability cases + 2 clone (s390 or not) + 1 clone3 = 33.
        #expect(profile.rules.count == 33)
        // Its first Names list has 363 syscalls; all quoted syscall names in DefaultProfile
        // number 426 once GOARCH strings are left out.
        #expect(profile.rules[0].names.count == 363)
        #expect(Set(profile.rules[0].names).count == 363)
        #expect(Set(profile.rules.flatMap(\.names)).count == 426)
        // What containerd returns for a default pod on amd64: the 9 unconditional rules,
        // ptrace, amd64's, CAP_SYS_CHROOT's, clone and clone3 = 14.
        #expect(try profile.applicableRules(capabilities: containerdDefaultCaps, arch: "amd64", kernel: modernKernel).count == 14)
        #expect(try profile.applicableRules(capabilities: [], arch: "amd64", kernel: SeccompKernelVersion(4, 4)).count == 12)
        let allCaps = Set(profile.rules.flatMap(\.includeCaps))
        #expect(allCaps.count == 14)
        #expect(try profile.applicableRules(capabilities: allCaps, arch: "amd64", kernel: modernKernel).count == 25)
        // s390x takes clone's flags from the second argument.
        let s390 = try profile.applicableRules(capabilities: [], arch: "s390x", kernel: modernKernel)
        #expect(s390.first { $0.names == ["clone"] }?.args.first?.index == 1)
        // A kernel-dependent rule with an unreadable kernel version is an error, not a guess.
        #expect(throws: SeccompError.unknownKernelVersion(syscalls: ["process_vm_readv", "process_vm_writev", "ptrace"])) {
            try profile.applicableRules(capabilities: [], arch: "amd64", kernel: nil)
        }
    }

    @Test func kernelVersionParsing() {
        #expect(SeccompKernelVersion(release: "6.18.44-fc-v657") == SeccompKernelVersion(6, 18))
        #expect(SeccompKernelVersion(release: "4.8") == SeccompKernelVersion(4, 8))
        #expect(SeccompKernelVersion(release: "5.10-rc3") == SeccompKernelVersion(5, 10))
        #expect(SeccompKernelVersion(release: "linux") == nil)
        #expect(SeccompKernelVersion(4, 8) < SeccompKernelVersion(4, 10))
        #expect(SeccompKernelVersion.running != nil)
    }
}

// MARK: - JSON profiles

@Suite("Seccomp JSON profiles", .ownThreads)
struct SeccompJSONTests {
    private func parse(_ text: String) throws -> SeccompProfile {
        try SeccompProfile(json: Data(text.utf8))
    }

    /// The error `body` throws, as SeccompError.
    private func error(_ body: () throws -> Void) -> SeccompError? {
        do { try body() } catch let error as SeccompError { return error } catch { Issue.record("\(error)") }
        return nil
    }

    @Test func parsesADockerFormatProfile() throws {
        let profile = try parse("""
        {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
            {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
          ],
          "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "ignored"},
            {"name": "kill", "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
             "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
            {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_LOG", "includes": {"arches": ["amd64", "x32"]}}
          ]
        }
        """)
        #expect(profile.defaultAction == .errno(EPERM))
        #if arch(x86_64)
        #expect(profile.architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        #endif
        #expect(profile.rules.count == 6)
        #expect(profile.rules[0] == SeccompRule(names: ["read", "write"], action: .allow))
        #expect(profile.rules[1] == SeccompRule(names: ["kill"], action: .killProcess))
        // The same rules as our RuntimeDefault data, written the Docker way.
        #expect(profile.rules[2] == RuntimeDefaultProfile.withoutSysAdmin[0])
        #expect(profile.rules[3] == RuntimeDefaultProfile.withoutSysAdmin[2])
        #expect(profile.rules[4] == SeccompRule(names: ["ptrace"], action: .allow, minKernel: SeccompKernelVersion(4, 8)))
        #expect(profile.rules[5].arches == ["amd64", "x32"])
        #expect(profile.rules[5].action == .log)

        let rules = try profile.applicableRules(capabilities: ["CAP_SYS_ADMIN"], arch: "amd64", kernel: SeccompKernelVersion(4, 4))
        #expect(rules.map(\.names) == [["read", "write"], ["kill"], ["arch_prctl"]])
    }

    @Test func jsonProfileCompilesWithRuncSemantics() throws {
        let profile = try parse("""
        {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
          {"names": ["read", "no_such_syscall_yet"], "action": "SCMP_ACT_ALLOW"},
          {"names": ["write"], "action": "SCMP_ACT_ALLOW",
           "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]},
          {"names": ["getpid"], "action": "SCMP_ACT_ERRNO"},
          {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]}
        """)
        let filter = try profile.compile(capabilities: [], arch: "amd64", kernel: modernKernel)
        #expect(filter.count % 8 == 0)
        #if arch(x86_64)
        // The unknown name is skipped; the rest still applies.
        #expect(run(filter, try Call("read")) == allow)
        // Two conditions on one argument become two rules (OR), as in runc.
        #expect(run(filter, try Call("write", 1)) == allow)
        #expect(run(filter, try Call("write", 2)) == allow)
        #expect(run(filter, try Call("write", 3)) == eperm)
        // A rule with the default action is dropped (libseccomp refuses it), errnoRet is kept.
        #expect(run(filter, try Call("getpid")) == eperm)
        #expect(run(filter, try Call("getppid")) == enosys)
        // Only the listed architecture: a 32-bit x86 syscall is killed.
        #expect(run(filter, try Call("read", abi: x86)) == killThread)
        #endif
    }

    @Test func badJSONSaysWhereAndWhat() throws {
        let notJSON = error { _ = try parse("{\"defaultAction\": ") }
        #expect(notJSON?.description.hasPrefix("seccomp profile is not valid JSON:") == true)

        let wrongType = error { _ = try parse(#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}"#) }
        #expect(wrongType == .invalidJSON(detail: "syscalls[0].names: expected an array"))

        let missingOp = error { _ = try parse(#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1}]}]}"#) }
        #expect(missingOp == .invalidJSON(detail: "syscalls[0].args[0].op: missing"))

        let noDefault = error { _ = try parse(#"{"syscalls": []}"#) }
        #expect(noDefault?.description.contains("defaultAction: missing") == true)
    }

    @Test func unknownOrUnsupportedValuesAreNamed() throws {
        let unknownAction = error { _ = try parse(#"""
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
              {"names": ["read"], "action": "SCMP_ACT_ALLOW"}, {"names": ["write"], "action": "SCMP_ACT_ALOW"}]}
            """#) }
        #expect(unknownAction?.description == "seccomp profile field syscalls[1].action: unknown action \"SCMP_ACT_ALOW\"; "
            + "expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, "
            + "SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG")

        let cases: [(String, String, String)] = [
            (#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#, "defaultAction", "not supported"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_TRACE"}]}"#,
             "syscalls[0].action", "not supported"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}"#,
             "syscalls[0].args[0].op", "unknown operator \"SCMP_CMP_LIKE\""),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
             "syscalls[0].args[0].index", "0...5"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]}"#,
             "architectures[0]", "unknown architecture \"SCMP_ARCH_VAX\""),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
             "architectures", "both"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}"#, "flags[0]", "prctl"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4"}}]}"#,
             "syscalls[0].includes.minKernel", "not a kernel version"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000}"#, "defaultErrnoRet", "not an errno"),
            (#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}]}"#,
             "syscalls[0].name", "both"),
        ]
        for (json, field, problem) in cases {
            let thrown = error { _ = try parse(json) }
            guard case .invalidProfile(let actualField, let actualProblem)? = thrown else {
                Issue.record("expected invalidProfile for \(json), got \(String(describing: thrown))")
                continue
            }
            #expect(actualField == field, "\(json)")
            #expect(actualProblem.contains(problem), "\(actualProblem)")
        }
    }

    @Test func libseccompErrorsNameTheCall() throws {
        // Built in Swift, past the JSON validation: libseccomp itself rejects argument 6.
        let profile = SeccompProfile(defaultAction: .errno(EPERM), rules: [
            SeccompRule(names: ["ptrace"], action: .allow, args: [SeccompArg(index: 6, value: 0, op: .equal)]),
        ])
        let thrown = error { _ = try profile.compile(capabilities: []) }
        #expect(thrown == .libseccomp(call: "seccomp_rule_add(ptrace)", errno: EINVAL))
        #expect(thrown?.description.hasPrefix("seccomp_rule_add(ptrace): Invalid argument (errno 22)") == true)
    }
}

@Suite("RuntimeDefault as OCI JSON", .ownThreads)
struct SeccompOCIExportTests {
    @Test func exportParsesBackToTheSameApplicableRules() throws {
        let caps = Set(Capabilities.defaultNames)
        let data = try SeccompProfile.runtimeDefault.ociJSON(capabilities: caps)
        let parsed = try SeccompProfile(json: data)
        let expected = try SeccompProfile.runtimeDefault.applicableRules(capabilities: caps)
        #expect(parsed.rules.count == expected.count)
        #expect(parsed.rules.map(\.names) == expected.map(\.names))
        #expect(parsed.defaultAction == .errno(1))
        // The resolved profile compiles to the same program as the conditional one.
        #expect(try parsed.compile(capabilities: caps) == SeccompProfile.runtimeDefault.compile(capabilities: caps))
    }
}
