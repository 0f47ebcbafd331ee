import ControllerRuntime
import Scheduler
import APIMachinery
import KubeAPI

/// The `pod-template-hash` of a Deployment's pod template, and template equality ignoring it
/// (`controller.ComputeHash` and `deploymentutil.EqualIgnoreHash`).
///
/// Kubernetes hashes the Go struct dump of the template with FNV-32a, adds the collision
/// count, and spells the decimal sum with `rand.SafeEncodeString` (no vowels, no look-alikes).
/// We hash the template's canonical JSON (sorted keys) instead of a Go struct dump, so the
/// values differ from Kubernetes' but are just as stable: the same template and collision
/// count always give the same name.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/controller_utils.go (ComputeHash)
enum PodTemplateHash {
    /// The label Deployments add to their ReplicaSets' selectors and templates.
    static let label = "pod-template-hash"

    /// The hash of `template` (a PodTemplateSpec) and `collisionCount`, spelled with the
    /// alphabet of `rand.SafeEncodeString`.
    static func compute(template: JSONValue, collisionCount: Int64?) -> String {
        var hash: UInt32 = 2_166_136_261
        func add(_ byte: UInt8) {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        for byte in JSONSerializer.serialize(normalized(template)) { add(byte) }
        if let collisionCount {
            // Kubernetes writes the count as a little-endian uint32 after the template.
            let count = UInt32(truncatingIfNeeded: collisionCount)
            for shift in stride(from: 0, to: 32, by: 8) { add(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        }
        return safeEncode(String(hash))
    }

    /// `rand.SafeEncodeString`: each character becomes the alphabet's character at its code
    /// point modulo the alphabet's length.
    static func safeEncode(_ text: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(text.unicodeScalars.map { alphabet[Int($0.value) % alphabet.count] })
    }

    /// Whether two pod templates are the same once the hash label is ignored. Clients that
    /// round-trip a template through Go types add `creationTimestamp: null` and drop empty
    /// maps (kubectl rollout undo does), so those differences do not count, as they do not
    /// for Kubernetes' typed comparison.
    static func equalIgnoringHash(_ lhs: JSONValue?, _ rhs: JSONValue?) -> Bool {
        normalized(lhs ?? .object([:])) == normalized(rhs ?? .object([:]))
    }

    /// The template without the hash label, nulls, and empty metadata maps.
    static func normalized(_ template: JSONValue) -> JSONValue {
        guard var members = template.objectValue else { return template }
        if var metadata = members["metadata"]?.objectValue {
            if var labels = metadata["labels"]?.objectValue {
                labels[label] = nil
                metadata["labels"] = .object(labels)
            }
            members["metadata"] = .object(metadata.filter { !isEmpty($0.value) })
        }
        return dropNulls(.object(members))
    }

    private static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .object(let members): return members.isEmpty
        case .array(let elements): return elements.isEmpty
        default: return false
        }
    }

    private static func dropNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.filter { $0.value != .null }.mapValues(dropNulls))
        case .array(let elements):
            return .array(elements.map(dropNulls))
        default:
            return value
        }
    }
}
