import APIMachinery
import KubeAPI

/// The checks PersistentVolumes and PersistentVolumeClaims share
/// (pkg/apis/core/validation/validation.go), on the objects' JSON: the schema walk has already
/// dropped unknown fields and refused wrong JSON types, so only the values are left to check.
enum StorageValidation {
    /// `supportedAccessModes`, in the sorted order the messages list them.
    static let accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    static let volumeModes = ["Block", "Filesystem"]
    static let reclaimPolicies = ["Delete", "Recycle", "Retain"]

    /// Each mode supported; ReadWriteOncePod alone. `requiredDetail` is the claim's wording
    /// when none is given (volumes say nothing).
    static func accessModeErrors(_ spec: JSONValue?, path: String, requiredDetail: String) -> [ValidationError] {
        let modes = (spec?["accessModes"]?.arrayValue ?? []).map { $0.stringValue ?? "" }
        var errors: [ValidationError] = []
        if modes.isEmpty {
            errors.append(ValidationError(type: .required, field: path, detail: requiredDetail))
        }
        var readWriteOncePod = false, others = false
        for mode in modes {
            if !accessModes.contains(mode) {
                errors.append(notSupported(path, mode, accessModes))
            } else if mode == "ReadWriteOncePod" {
                readWriteOncePod = true
            } else {
                others = true
            }
        }
        if readWriteOncePod && others {
            errors.append(ValidationError(type: .forbidden, field: path, detail: "may not use ReadWriteOncePod with other access modes"))
        }
        return errors
    }

    /// `ValidateClassName` (a DNS subdomain) for a non-empty class name.
    static func classNameErrors(_ name: String?, path: String) -> [ValidationError] {
        guard let name, !name.isEmpty else { return [] }
        return NameRules.dns1123Subdomain(name).map { ValidationError(type: .invalid, field: path, badValue: .string(name), detail: $0) }
    }

    static func volumeModeErrors(_ mode: String?, path: String) -> [ValidationError] {
        guard let mode, !volumeModes.contains(mode) else { return [] }
        return [notSupported(path, mode, volumeModes)]
    }

    /// `ValidatePositiveQuantityValue` (and the quantity's syntax, which Go's decoding checks).
    static func positiveQuantityErrors(_ value: JSONValue, path: String) -> [ValidationError] {
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let number): text = String(number)
        case .double(let number): text = String(number)
        default: text = ""
        }
        let quantity: Quantity
        do {
            quantity = try Quantity(text)
        } catch {
            return [ValidationError(type: .invalid, field: path, badValue: .string(text), detail: "\(error)")]
        }
        return quantity.milliValue > 0 ? []
            : [ValidationError(type: .invalid, field: path, badValue: .string(quantity.description), detail: "must be greater than zero")]
    }

    /// A relative or absolute path without `..` elements (`validatePathNoBacksteps`).
    static func backstepErrors(_ path: String, field: String) -> [ValidationError] {
        path.split(separator: "/").contains("..")
            ? [ValidationError(type: .invalid, field: field, badValue: .string(path), detail: "must not contain '..'")] : []
    }

    static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> ValidationError {
        ValidationError(type: .notSupported, field: field, badValue: .string(value),
                        detail: "supported values: " + supported.map(ObjectValidation.quote).joined(separator: ", "))
    }

    /// `ValidateLabelSelector`, shared with PodDisruptionBudgets.
    static func selectorErrors(_ selector: JSONValue?, path: String) -> [ValidationError] {
        guard let selector, selector != .null else { return [] }
        return PodDisruptionBudgetStrategy.selectorErrors(selector, path: path)
    }
}
