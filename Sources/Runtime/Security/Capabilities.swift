import CShims
import Foundation

/// A set of Linux capabilities as a bit mask (bit n = capability number n).
public struct CapabilityMask: Sendable, Equatable, Hashable {
    public var mask: UInt64

    public init(mask: UInt64) { self.mask = mask }

    public init(numbers: [Int]) {
        mask = numbers.reduce(0) { $0 | (1 << UInt64($1)) }
    }

    /// Every capability the running kernel knows.
    public static var all: CapabilityMask {
        let last = Int(sl_cap_last_cap())
        return CapabilityMask(mask: last >= 63 ? ~0 : (UInt64(1) << UInt64(last + 1)) - 1)
    }

    /// The capabilities this process holds (its permitted set): what "all" can mean for a
    /// container, since no process can grant more than it has. containerd's privileged
    /// containers get the same (`oci.WithAllCurrentCapabilities`).
    public static var current: CapabilityMask {
        let status = ProcFile.read("/proc/self/status") ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("CapPrm:") {
            let hex = line.dropFirst("CapPrm:".count).trimmingCharacters(in: .whitespaces)
            if let mask = UInt64(hex, radix: 16) { return CapabilityMask(mask: mask & all.mask) }
        }
        return all
    }

    public func contains(_ number: Int) -> Bool { mask & (1 << UInt64(number)) != 0 }

    /// Names in "CAP_X" form, for seccomp's capability-conditional rules and for messages.
    public var names: Set<String> {
        var result = Set<String>()
        for number in 0..<64 where contains(number) {
            if let name = Capabilities.name(of: number) { result.insert(name) }
        }
        return result
    }
}

/// The five capability sets a process starts with.
public struct CapabilitySet: Sendable, Equatable {
    public var bounding: CapabilityMask
    public var effective: CapabilityMask
    public var permitted: CapabilityMask
    public var inheritable: CapabilityMask
    public var ambient: CapabilityMask

    /// Same mask in bounding, effective and permitted; nothing inheritable or ambient. This is
    /// what containerd gives (inheritable empty since containerd 1.6.18, CVE-2022-24769).
    public init(_ mask: CapabilityMask) {
        bounding = mask
        effective = mask
        permitted = mask
        inheritable = CapabilityMask(mask: 0)
        ambient = CapabilityMask(mask: 0)
    }

    /// containerd's default set, CapEff `00000000a80425fb` for a root container.
    public static let containerdDefault = CapabilitySet(Capabilities.defaultMask)
}

public enum CapabilityError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    public var description: String {
        switch self {
        case .unknown(let name): return "unknown capability \"\(name)\""
        }
    }
}

/// Capability names and the Kubernetes `securityContext.capabilities` rules.
public enum Capabilities {
    /// containerd's `oci.WithDefaultCapabilities` list (pkg/oci/spec.go): CHOWN, DAC_OVERRIDE,
    /// FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
    /// SYS_CHROOT, KILL, AUDIT_WRITE.
    public static let defaultNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    static let defaultMask = CapabilityMask(numbers: defaultNames.compactMap { number(of: $0) })

    /// Number for "NET_ADMIN", "CAP_NET_ADMIN" or "cap_net_admin" (Kubernetes accepts all).
    public static func number(of name: String) -> Int? {
        let upper = name.uppercased()
        let full = upper.hasPrefix("CAP_") ? upper : "CAP_" + upper
        let value = sl_cap_from_name(full.lowercased())
        return value >= 0 ? Int(value) : nil
    }

    public static func name(of number: Int) -> String? {
        guard let raw = cap_to_name(cap_value_t(number)) else { return nil }
        defer { cap_free(raw) }
        let name = String(cString: raw).uppercased()
        return name.hasPrefix("CAP_") ? name : nil
    }

    /// The set for a container: privileged gets every capability we hold; otherwise the default
    /// set, with `drop` applied before `add` and "ALL" meaning every capability we hold
    /// (containerd's order and meaning).
    public static func forContainer(privileged: Bool, add: [String], drop: [String]) throws -> CapabilitySet {
        if privileged { return CapabilitySet(.current) }
        var mask = defaultMask.mask
        for name in drop {
            if name.uppercased() == "ALL" { mask = 0; continue }
            guard let n = number(of: name) else { throw CapabilityError.unknown(name) }
            mask &= ~(1 << UInt64(n))
        }
        for name in add {
            if name.uppercased() == "ALL" { mask = CapabilityMask.current.mask; continue }
            guard let n = number(of: name) else { throw CapabilityError.unknown(name) }
            mask |= 1 << UInt64(n)
        }
        return CapabilitySet(CapabilityMask(mask: mask))
    }
}
