import KubeAPI

extension KubeObject {
    /// A pod's `Ready` condition, if it has one.
    package var podReadyCondition: JSONValue? {
        value(at: ["status", "conditions"])?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
    }

    /// Whether a pod's `Ready` condition is True (`podutil.IsPodReady`).
    package var isPodReady: Bool {
        podReadyCondition?["status"]?.stringValue == "True"
    }
}
