/// One event of a watch as sent to clients: `{"type":"ADDED","object":{...}}`.
package struct WatchEvent: Sendable {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    package let type: String
    /// The object; nil for ERROR (see `error`).
    package let object: KubeObject?
    /// The Status of an ERROR event.
    package let error: APIError?

    /// The object already written as JSON in member order with its resourceVersion (from the
    /// stored bytes, `StoredJSON`), for watches that answer plain JSON; `object` is then nil
    /// unless a selector needed it.
    package var json: [UInt8]?

    package init(type: String, object: KubeObject?, error: APIError?, json: [UInt8]? = nil) {
        self.type = type
        self.object = object
        self.error = error
        self.json = json
    }
}
