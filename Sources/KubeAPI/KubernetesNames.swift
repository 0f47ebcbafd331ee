/// Kubernetes' name format checks for code outside this module (the agent's service proxy
/// and cluster DNS read names from the API and must not trust them). Each returns the failure
/// messages, empty when valid, worded as k8s.io/apimachinery/pkg/util/validation words them.
public enum KubernetesNames {
    /// `IsDNS1123Label`: namespaces, port names of services and endpoint slices.
    public static func dns1123LabelErrors(_ value: String) -> [String] { NameRules.dns1123Label(value) }

    /// `IsDNS1123Subdomain`: object names, node names.
    public static func dns1123SubdomainErrors(_ value: String) -> [String] { NameRules.dns1123Subdomain(value) }

    /// `IsDNS1035Label`: Service names (they become DNS labels, so they must start with a letter).
    public static func dns1035LabelErrors(_ value: String) -> [String] {
        var errors = NameRules.dns1123Label(value).filter { $0 != "must not contain dots" }
        let bytes = Array(value.utf8)
        let startsWithLetter = bytes.first.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } ?? false
        if !startsWithLetter || errors.contains(where: { $0.hasPrefix("a lowercase RFC 1123 label") }) || value.contains(".") {
            errors.removeAll { $0.hasPrefix("a lowercase RFC 1123 label") }
            errors.append(NameRules.regexError(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
                "[a-z]([-a-z0-9]*[a-z0-9])?", "my-name", "abc-123"))
        }
        return errors
    }
}
