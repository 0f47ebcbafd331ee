/// One event of a watch as sent to clients: `{"type":"ADDED","object":{...}}`.
package struct WatchEvent: Sendable {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    package let type: String
    /// The object; nil for ERROR (see `error`).
    package let object: KubeObject?
    /// The Status of an ERROR event.
    package let error: APIError?

    package init(type: String, object: KubeObject?, error: APIError?) {
        self.type = type
        self.object = object
        self.error = error
    }
}
