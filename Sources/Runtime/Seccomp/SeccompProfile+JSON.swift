import Foundation

// Reading profiles in the Docker/moby JSON format, which is a superset of the OCI runtime
// spec's `linux.seccomp` object: what users put under /var/lib/kubelet/seccomp for
// `type: Localhost`, and what `docker run --security-opt seccomp=...` takes.
// Format: https://github.com/moby/profiles/blob/main/seccomp/seccomp.go
//
// Unlike containerd, which unmarshals Localhost profiles straight into the OCI type and so
// silently drops `includes`/`excludes`/`archMap` (applying every rule unconditionally), we
// evaluate those conditions as Docker does: a profile copied from moby's default.json then
// means the same thing under swiftlet as under Docker.

extension SeccompProfile {
    /// Parse a profile in the OCI/Docker JSON format (what Kubernetes `Localhost` profiles
    /// under /var/lib/kubelet/seccomp use): `defaultAction`, `defaultErrnoRet`,
    /// `architectures` or `archMap`, `syscalls[{names, action, args, errnoRet,
    /// includes{caps, arches, minKernel}, excludes{caps, arches, minKernel}}]`.
    ///
    /// `archMap` is resolved here for the host architecture, as moby does. Unknown keys are
    /// ignored (Go's encoding/json does the same), unknown values are errors.
    ///
    /// - Throws: `SeccompError.invalidJSON` when the data is not a JSON object of the right
    ///   shape, `SeccompError.invalidProfile` naming the field when a value is not usable.
    public init(json: Data) throws {
        let document: ProfileDocument
        do {
            document = try JSONDecoder().decode(ProfileDocument.self, from: json)
        } catch let error as DecodingError {
            throw SeccompError.invalidJSON(detail: Self.explain(error))
        } catch {
            throw SeccompError.invalidJSON(detail: "\(error)")
        }
        try self.init(document: document)
    }

    private init(document: ProfileDocument) throws {
        guard let defaultActionName = document.defaultAction, !defaultActionName.isEmpty else {
            throw SeccompError.invalidProfile(
                field: "defaultAction",
                problem: "missing; set it to e.g. \"SCMP_ACT_ERRNO\" (or use profile type Unconfined "
                    + "for no filter)")
        }
        let defaultErrno = try Self.errno(document.defaultErrnoRet, field: "defaultErrnoRet")
        let defaultAction = try Self.action(defaultActionName, errnoRet: defaultErrno, field: "defaultAction")

        for (index, flag) in (document.flags ?? []).enumerated() {
            try Self.checkFlag(flag, field: "flags[\(index)]")
        }

        let architectures = try Self.architectures(document)

        var rules: [SeccompRule] = []
        for (index, syscall) in (document.syscalls ?? []).enumerated() {
            rules.append(try Self.rule(syscall, field: "syscalls[\(index)]"))
        }
        self.init(defaultAction: defaultAction, architectures: architectures, rules: rules)
    }

    // MARK: - Fields

    /// `architectures` as given, or the host's entry of `archMap` (its architecture and
    /// sub-architectures); moby refuses profiles that set both.
    private static func architectures(_ document: ProfileDocument) throws -> [String] {
        let listed = document.architectures ?? []
        let archMap = document.archMap ?? []
        if !listed.isEmpty && !archMap.isEmpty {
            throw SeccompError.invalidProfile(
                field: "architectures",
                problem: "both 'architectures' and 'archMap' are set; use one of them")
        }
        for (index, name) in listed.enumerated() {
            try checkArchitecture(name, field: "architectures[\(index)]")
        }
        for (index, entry) in archMap.enumerated() {
            try checkArchitecture(entry.architecture, field: "archMap[\(index)].architecture")
            for (subIndex, name) in (entry.subArchitectures ?? []).enumerated() {
                try checkArchitecture(name, field: "archMap[\(index)].subArchitectures[\(subIndex)]")
            }
        }
        guard let host = archMap.first(where: { $0.architecture == SeccompArchitecture.hostSeccompName }) else {
            return listed
        }
        return [host.architecture] + (host.subArchitectures ?? [])
    }

    private static func checkArchitecture(_ name: String, field: String) throws {
        guard SeccompArchitecture.dockerNames[name] != nil else {
            let known = SeccompArchitecture.dockerNames.keys.sorted().joined(separator: ", ")
            throw SeccompError.invalidProfile(
                field: field, problem: "unknown architecture \"\(name)\"; known: \(known)")
        }
    }

    /// Flags are arguments of seccomp(2); swiftlet loads the filter with
    /// prctl(PR_SET_SECCOMP), which takes none. TSYNC (all threads: the child has one) and
    /// SPEC_ALLOW (skip the speculative store bypass mitigation: losing it only keeps the
    /// mitigation on) are harmless to drop; the others would change behaviour.
    private static func checkFlag(_ flag: String, field: String) throws {
        switch flag {
        case "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW":
            return
        default:
            throw SeccompError.invalidProfile(
                field: field,
                problem: "flag \"\(flag)\" is not supported: swiftlet loads filters with prctl(PR_SET_SECCOMP), "
                    + "which takes no flags; remove it from the profile")
        }
    }

    private static func rule(_ syscall: SyscallDocument, field: String) throws -> SeccompRule {
        var names = syscall.names ?? []
        if let name = syscall.name, !name.isEmpty {
            // The deprecated single `name` field, still accepted by moby.
            guard names.isEmpty else {
                throw SeccompError.invalidProfile(
                    field: "\(field).name", problem: "both 'name' and 'names' are set; use 'names'")
            }
            names = [name]
        }
        if let empty = names.firstIndex(where: \.isEmpty) {
            throw SeccompError.invalidProfile(field: "\(field).names[\(empty)]", problem: "empty syscall name")
        }
        guard let actionName = syscall.action else {
            throw SeccompError.invalidProfile(field: "\(field).action", problem: "missing; e.g. \"SCMP_ACT_ALLOW\"")
        }
        let errnoRet = try errno(syscall.errnoRet, field: "\(field).errnoRet")
        let action = try action(actionName, errnoRet: errnoRet, field: "\(field).action")

        var args: [SeccompArg] = []
        for (index, arg) in (syscall.args ?? []).enumerated() {
            let argField = "\(field).args[\(index)]"
            // Syscalls take at most six arguments; seccomp_data has no seventh.
            guard arg.index <= 5 else {
                throw SeccompError.invalidProfile(
                    field: "\(argField).index", problem: "\(arg.index) is not an argument index (0...5)")
            }
            args.append(SeccompArg(
                index: arg.index, value: arg.value, valueTwo: arg.valueTwo ?? 0,
                op: try op(arg.op, field: "\(argField).op")))
        }

        return SeccompRule(
            names: names,
            action: action,
            args: args,
            includeCaps: syscall.includes?.caps ?? [],
            excludeCaps: syscall.excludes?.caps ?? [],
            arches: syscall.includes?.arches ?? [],
            excludeArches: syscall.excludes?.arches ?? [],
            minKernel: try kernel(syscall.includes?.minKernel, field: "\(field).includes.minKernel"),
            excludeMinKernel: try kernel(syscall.excludes?.minKernel, field: "\(field).excludes.minKernel"),
            errnoRet: errnoRet)
    }

    /// The libseccomp action names runc accepts (`libcontainer/seccomp/config.go`), minus the
    /// two swiftlet cannot honour.
    static func action(_ name: String, errnoRet: Int32?, field: String) throws -> SeccompAction {
        switch name {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errnoRet ?? EPERM)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return .kill
        case "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY":
            throw SeccompError.invalidProfile(
                field: field,
                problem: "action \"\(name)\" is not supported: swiftlet runs no ptrace tracer or seccomp "
                    + "notification agent; use SCMP_ACT_ERRNO or SCMP_ACT_LOG instead")
        default:
            throw SeccompError.invalidProfile(
                field: field,
                problem: "unknown action \"\(name)\"; expected one of SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, "
                    + "SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG")
        }
    }

    private static func op(_ name: String, field: String) throws -> SeccompArg.Op {
        switch name {
        case "SCMP_CMP_NE": return .notEqual
        case "SCMP_CMP_LT": return .lessThan
        case "SCMP_CMP_LE": return .lessOrEqual
        case "SCMP_CMP_EQ": return .equal
        case "SCMP_CMP_GE": return .greaterOrEqual
        case "SCMP_CMP_GT": return .greaterThan
        case "SCMP_CMP_MASKED_EQ": return .maskedEqual
        default:
            throw SeccompError.invalidProfile(
                field: field,
                problem: "unknown operator \"\(name)\"; expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
                    + "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ")
        }
    }

    /// The kernel returns at most MAX_ERRNO (4095) as an error; anything larger would be read
    /// by libc as a successful return value.
    private static func errno(_ value: UInt32?, field: String) throws -> Int32? {
        guard let value else { return nil }
        guard value <= 4095 else {
            throw SeccompError.invalidProfile(field: field, problem: "\(value) is not an errno (0...4095)")
        }
        return Int32(value)
    }

    /// `"<kernel>.<major>"` exactly, as moby's `KernelVersion.UnmarshalJSON` demands; `""`
    /// means no condition.
    private static func kernel(_ value: String?, field: String) throws -> SeccompKernelVersion? {
        guard let value, !value.isEmpty else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let kernel = UInt32(parts[0]), let major = UInt32(parts[1]),
              kernel != 0 || major != 0
        else {
            throw SeccompError.invalidProfile(
                field: field, problem: "\"\(value)\" is not a kernel version like \"4.8\"")
        }
        return SeccompKernelVersion(kernel, major)
    }

    /// A decoding error as `field: problem`, with the field written as in the profile
    /// (`syscalls[2].args[0].value`).
    private static func explain(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "top level" : text)
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(describe(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { ": \($0.localizedDescription)" } ?? ""
            return "\(path(context.codingPath)): \(context.debugDescription)\(underlying)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "an array" }
        if name == "String" { return "a string" }
        if name.hasPrefix("UInt") || name.hasPrefix("Int") { return "a non-negative integer" }
        return "an object"
    }
}

// MARK: - The JSON document

/// The profile object as written; every field optional so that missing ones are reported
/// with their name by the validation above rather than by the decoder.
private struct ProfileDocument: Decodable {
    var defaultAction: String?
    var defaultErrnoRet: UInt32?
    var architectures: [String]?
    var archMap: [ArchitectureDocument]?
    var flags: [String]?
    var syscalls: [SyscallDocument]?
}

private struct ArchitectureDocument: Decodable {
    var architecture: String
    var subArchitectures: [String]?
}

private struct SyscallDocument: Decodable {
    var names: [String]?
    var name: String?
    var action: String?
    var errnoRet: UInt32?
    var args: [ArgDocument]?
    var includes: FilterDocument?
    var excludes: FilterDocument?
}

private struct ArgDocument: Decodable {
    var index: UInt32
    var value: UInt64
    var valueTwo: UInt64?
    var op: String
}

private struct FilterDocument: Decodable {
    var caps: [String]?
    var arches: [String]?
    var minKernel: String?
}
