import Foundation

// The profile resolved for one capability set, as the OCI runtime spec's `linux.seccomp`
// object: what containerd writes into config.json for runc/crun after evaluating the
// Docker-style `includes`/`excludes` conditions. `swiftlet seccomp-profile` prints it, and the
// start-latency benchmark hands it to runc and crun so all three enforce the same policy.
extension SeccompProfile {
    public func ociJSON(capabilities: Set<String>) throws -> Data {
        let rules = try applicableRules(capabilities: capabilities)
        var syscalls: [[String: Any]] = []
        for rule in rules {
            var entry: [String: Any] = ["names": rule.names, "action": Self.ociName(rule.effectiveAction)]
            if case .errno(let code) = rule.effectiveAction { entry["errnoRet"] = code }
            if !rule.args.isEmpty {
                entry["args"] = rule.args.map { arg in
                    ["index": arg.index, "value": arg.value, "valueTwo": arg.valueTwo, "op": Self.ociName(arg.op)] as [String: Any]
                }
            }
            syscalls.append(entry)
        }
        var document: [String: Any] = [
            "defaultAction": Self.ociName(defaultAction),
            "architectures": architectures,
            "syscalls": syscalls,
        ]
        if case .errno(let code) = defaultAction { document["defaultErrnoRet"] = code }
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }

    static func ociName(_ action: SeccompAction) -> String {
        switch action {
        case .allow: return "SCMP_ACT_ALLOW"
        case .errno: return "SCMP_ACT_ERRNO"
        case .kill: return "SCMP_ACT_KILL"
        case .killProcess: return "SCMP_ACT_KILL_PROCESS"
        case .trap: return "SCMP_ACT_TRAP"
        case .log: return "SCMP_ACT_LOG"
        }
    }

    static func ociName(_ op: SeccompArg.Op) -> String {
        switch op {
        case .notEqual: return "SCMP_CMP_NE"
        case .lessThan: return "SCMP_CMP_LT"
        case .lessOrEqual: return "SCMP_CMP_LE"
        case .equal: return "SCMP_CMP_EQ"
        case .greaterOrEqual: return "SCMP_CMP_GE"
        case .greaterThan: return "SCMP_CMP_GT"
        case .maskedEqual: return "SCMP_CMP_MASKED_EQ"
        }
    }
}
