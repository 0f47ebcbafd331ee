/// Kubernetes' format checks for names, label keys and values, port names and the like.
/// Each returns the failure messages (empty when valid), word for word as
/// k8s.io/apimachinery/pkg/util/validation and pkg/api/validate/content produce them.
public enum NameRules {
    static let dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainFormat = dns1123LabelFormat + "(\\." + dns1123LabelFormat + ")*"
    static let labelKeyFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

    static func regexError(_ message: String, _ format: String, _ examples: String...) -> String {
        guard !examples.isEmpty else {
            return message + " (regex used for validation is '" + format + "')"
        }
        // Upstream's `RegexError` writes "', " after each example and " or " between them,
        // hence the double space Kubernetes' messages have ("'my-name',  or '123-abc'").
        return message + " (e.g. " + examples.map { "'\($0)', " }.joined(separator: " or ")
            + "regex used for validation is '" + format + "')"
    }

    // MARK: Character classes

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func matchesLabel(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    private static func matchesSubdomain(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(matchesLabel)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    private static func matchesLabelKeyName(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    // MARK: Checks

    /// `IsDNS1123Label`: container, volume and port-less names, namespaces, hostnames.
    public static func dns1123Label(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 {
            errors.append("must be no more than 63 characters")
        }
        if !matchesLabel(Array(value.utf8)[...]) {
            if matchesSubdomain(value) {
                errors.append("must not contain dots")
            } else {
                errors.append(regexError(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                    dns1123LabelFormat, "my-name", "123-abc"))
            }
        }
        return errors
    }

    /// `IsDNS1123Subdomain`: object names, node names, hostnames in aliases.
    public static func dns1123Subdomain(_ value: String, maxLengthUnit: String = "characters") -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 {
            errors.append("must be no more than 253 \(maxLengthUnit)")
        }
        if !matchesSubdomain(value) {
            errors.append(regexError(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                dns1123SubdomainFormat, "example.com"))
        }
        return errors
    }

    /// `NameIsDNSSubdomain` with `prefix`: a generateName may end in '-'.
    static func dns1123Subdomain(prefix value: String) -> [String] {
        var name = value
        if name.count > 1, name.hasSuffix("-") {
            name = String(name.dropLast(2)) + "a"
        }
        return dns1123Subdomain(name)
    }

    /// `IsQualifiedName` / `IsLabelKey`: label keys, annotation keys, resource names.
    public static func qualifiedName(_ value: String) -> [String] {
        let keyError = regexError(
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            labelKeyFormat, "MyName", "my.name", "123-abc")
        var errors: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: String
        switch parts.count {
        case 1:
            name = String(parts[0])
        case 2:
            let prefix = String(parts[0])
            name = String(parts[1])
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += dns1123Subdomain(prefix, maxLengthUnit: "bytes").map { "prefix part " + $0 }
            }
        default:
            return ["a valid label key " + keyError + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errors.append("name part must be no more than 63 bytes")
        }
        if !matchesLabelKeyName(name) {
            errors.append("name part " + keyError)
        }
        return errors
    }

    /// `IsLabelValue`.
    public static func labelValue(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 {
            errors.append("must be no more than 63 bytes")
        }
        if !value.isEmpty, !matchesLabelKeyName(value) {
            errors.append(regexError(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                "(" + labelKeyFormat + ")?", "MyValue", "my_value", "12345"))
        }
        return errors
    }

    /// `IsValidPortName`: an IANA_SVC_NAME.
    public static func portName(_ value: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 15 {
            errors.append("must be no more than 15 characters")
        }
        if bytes.isEmpty || !bytes.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }) {
            errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) {
            errors.append("must contain at least one letter (a-z)")
        }
        if value.contains("--") {
            errors.append("must not contain consecutive hyphens")
        }
        if let first = bytes.first, let last = bytes.last, first == UInt8(ascii: "-") || last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// `IsValidPortNum`.
    public static func portNumber(_ value: Int64) -> [String] {
        (1...65535).contains(value) ? [] : ["must be between 1 and 65535, inclusive"]
    }

    /// `IsValidUserID` / `IsValidGroupID`.
    static func unixID(_ value: Int64) -> [String] {
        (0...Int64(Int32.max)).contains(value) ? [] : ["must be between 0 and 2147483647, inclusive"]
    }

    /// `IsRelaxedEnvVarName` (RelaxedEnvironmentVariableValidation is on by default since
    /// Kubernetes 1.32): printable ASCII except '='.
    static func environmentVariableName(_ value: String) -> [String] {
        var errors: [String] = []
        if value.isEmpty {
            errors.append("environment variable name must be non-empty")
        }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7E || $0 == "=" }) {
            errors.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
        }
        return errors
    }

    /// `IsConfigMapKey`: keys of ConfigMaps and Secrets.
    static func configMapKey(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 {
            errors.append("must be no more than 253 characters")
        }
        let valid = !value.isEmpty && value.utf8.allSatisfy {
            isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        if !valid {
            errors.append(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                     "[-._a-zA-Z0-9]+", "key.name", "KEY_NAME", "key-name"))
        }
        if value == "." {
            errors.append("must not be '.'")
        } else if value == ".." {
            errors.append("must not be '..'")
        } else if value.hasPrefix("..") {
            errors.append("must not start with '..'")
        }
        return errors
    }

    /// `IsHTTPHeaderName`.
    static func httpHeaderName(_ value: String) -> [String] {
        let valid = !value.isEmpty && value.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        return valid ? [] : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'",
                                        "[-A-Za-z0-9]+", "X-Header-Name")]
    }

    /// Whether `value` is an IPv4 or IPv6 address (`netutils.ParseIPSloppy`, which also
    /// accepts IPv4 octets with leading zeros).
    public static func isIPAddress(_ value: String) -> Bool {
        let octets = value.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4 {
            return octets.allSatisfy { octet in
                !octet.isEmpty && octet.count <= 3 && octet.allSatisfy(\.isASCII) && Int(octet).map { $0 <= 255 } == true
            }
        }
        return isIPv6Address(value)
    }

    private static func isIPv6Address(_ value: String) -> Bool {
        guard value.contains(":"), !value.contains(":::") else { return false }
        if (value.hasPrefix(":") && !value.hasPrefix("::")) || (value.hasSuffix(":") && !value.hasSuffix("::")) {
            return false
        }
        var groups = value.components(separatedBy: ":")
        var allowed = 8
        if let last = groups.last, last.contains(".") {
            // An embedded IPv4 tail counts as two groups.
            guard isIPAddress(last), !last.contains(":") else { return false }
            groups.removeLast()
            allowed = 6
        }
        let compressed = value.components(separatedBy: "::").count - 1
        guard compressed <= 1 else { return false }
        let nonEmpty = groups.filter { !$0.isEmpty }
        guard nonEmpty.allSatisfy({ $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        if compressed == 1 {
            return nonEmpty.count < allowed
        }
        return groups.count == allowed && nonEmpty.count == allowed
    }
}
