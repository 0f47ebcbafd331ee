/// Just `apiVersion` and `kind`: peeks at what a manifest is before decoding it fully.
///
/// Unknown fields are allowed here (everything else in the manifest), unlike every other
/// type decoded through `Manifest`.
public struct TypeMeta: Codable, Hashable, Sendable, AllowsUnknownFields {
    public var apiVersion: String?
    public var kind: String?

    public init(apiVersion: String? = nil, kind: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
    }
}
