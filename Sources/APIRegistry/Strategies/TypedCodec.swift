import APIMachinery
import Foundation
import KubeAPI

/// Decoding parts of objects into `KubeAPI` types and back, with Kubernetes' errors.
enum TypedCodec {
    /// Decodes `value` strictly as `T`. Unknown fields are an error with
    /// `fieldValidation=Strict`; otherwise they are dropped and reported as warnings.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, kind: String, version: String,
                                     pathPrefix: String = "", validation: FieldValidation) throws(APIError) -> (T, [String]) {
        var value = value
        var warnings: [String] = []
        // Each round removes one unknown field; bounded in case a path cannot be removed.
        for _ in 0..<64 {
            do {
                let decoded = try Manifest.decode(type, value: value)
                return (decoded, warnings)
            } catch let failure as DecodingFailure {
                let path = pathPrefix + failure.path
                if failure.message.hasPrefix("unknown field"), validation != .strict, value.remove(fieldPath: failure.path) {
                    if validation == .warn {
                        warnings.append("unknown field \(ObjectValidation.quote(path))")
                    }
                    continue
                }
                let detail = failure.message.hasPrefix("unknown field")
                    ? "strict decoding error: unknown field \(ObjectValidation.quote(path))"
                    : (failure.path.isEmpty ? failure.message : "\(path): \(failure.message)")
                throw APIError.badRequest("\(kind) in version \(ObjectValidation.quote(version)) cannot be handled as a \(kind): \(detail)")
            } catch {
                throw APIError.badRequest("\(kind) in version \(ObjectValidation.quote(version)) cannot be handled as a \(kind): \(error)")
            }
        }
        throw APIError.badRequest("\(kind) in version \(ObjectValidation.quote(version)) cannot be handled as a \(kind): too many unknown fields")
    }

    /// Encodes a `KubeAPI` value back into JSON (straight into `JSONValue`, no text).
    static func encode<T: Encodable>(_ value: T) throws(APIError) -> JSONValue {
        do {
            return try JSONValueEncoder().encode(value)
        } catch {
            throw APIError.internalError("encoding \(T.self): \(error)")
        }
    }

    /// Go's rendering of a `map[string]string` in validation messages.
    static func goMap(_ map: [String: String]) -> String {
        "map[string]string{" + map.keys.sorted().map { "\(ObjectValidation.quote($0)):\(ObjectValidation.quote(map[$0] ?? ""))" }
            .joined(separator: ", ") + "}"
    }
}

extension JSONValue {
    /// Removes the member at a Kubernetes field path (`spec.containers[0].foo`,
    /// `metadata.labels[app.kubernetes.io/name]`); false when the path does not exist.
    mutating func remove(fieldPath: String) -> Bool {
        var segments: [String] = []
        var current = ""
        var inBracket = false
        for character in fieldPath {
            switch character {
            case "." where !inBracket:
                if !current.isEmpty { segments.append(current) }
                current = ""
            case "[" where !inBracket:
                if !current.isEmpty { segments.append(current) }
                current = ""
                inBracket = true
            case "]" where inBracket:
                segments.append(current)
                current = ""
                inBracket = false
            default:
                current.append(character)
            }
        }
        if !current.isEmpty { segments.append(current) }
        return remove(segments: segments[...])
    }

    private mutating func remove(segments: ArraySlice<String>) -> Bool {
        guard let first = segments.first else { return false }
        switch self {
        case .object(var members):
            if segments.count == 1 {
                guard members.removeValue(forKey: first) != nil else { return false }
                self = .object(members)
                return true
            }
            guard var child = members[first], child.remove(segments: segments.dropFirst()) else { return false }
            members[first] = child
            self = .object(members)
            return true
        case .array(var elements):
            guard let index = Int(first), elements.indices.contains(index) else { return false }
            if segments.count == 1 { return false }
            guard elements[index].remove(segments: segments.dropFirst()) else { return false }
            self = .array(elements)
            return true
        default:
            return false
        }
    }
}
