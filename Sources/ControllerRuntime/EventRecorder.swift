import APIMachinery
import KubeAPI

/// client-go's event recorder, in small: the controllers' Events go through the same client as
/// everything else they write.
package enum EventRecorder {
    /// `<object>.<16 hex digits>`: the 64-bit FNV-1a hash of the object's uid, the reason and the
    /// message, so the same Event gets the same name and a repeat finds it. (A cryptographic
    /// digest is not needed to tell a few events apart, and would make the controllers depend
    /// on a crypto library.)
    package static func eventName(object name: String, uid: String, reason: String, message: String) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in "\(uid):\(reason):\(message)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        let hex = String(hash, radix: 16)
        return "\(name)." + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension ResourceClient {
    /// Records a core/v1 Event about `object`, as client-go's event recorder does: one Event per
    /// (object, reason, message), whose `count` and `lastTimestamp` grow when it repeats.
    package func recordEvent(about object: KubeObject, type: String, reason: String, message: String, component: String) async {
        // Events about cluster-scoped objects (nodes, namespaces, volumes) go to `default`, as
        // client-go's recorder puts them (`metav1.NamespaceDefault` for an empty namespace).
        let namespace = object.namespace ?? "default"
        guard let name = object.name else { return }
        let now = Time.now().description
        // client-go names events <object>.<unix nanos in hex>; a stable suffix per reason and
        // message lets a repeat find the previous one.
        let eventName = EventRecorder.eventName(object: name, uid: object.uid ?? "", reason: reason, message: message)
        do {
            if var existing = try await get(.events, namespace: namespace, name: eventName) {
                existing.set(.int((existing.value(at: ["count"])?.intValue ?? 1) + 1), at: ["count"])
                existing.set(.string(now), at: ["lastTimestamp"])
                _ = try await update(.events, existing)
                return
            }
            var involved: [String: JSONValue] = [
                "kind": .string(object.kind ?? ""), "name": .string(name),
                "apiVersion": .string(object.apiVersion ?? ""),
            ]
            if let uid = object.uid { involved["uid"] = .string(uid) }
            if let ns = object.namespace { involved["namespace"] = .string(ns) }
            if let version = object.resourceVersion { involved["resourceVersion"] = .string(version) }
            let event = KubeObject(fields: [
                "metadata": .object(["name": .string(eventName), "namespace": .string(namespace)]),
                "involvedObject": .object(involved),
                "reason": .string(reason), "message": .string(message), "type": .string(type),
                "source": .object(["component": .string(component)]),
                "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": .int(1),
                "reportingComponent": .string(component), "reportingInstance": .string(""),
            ])
            _ = try await create(.events, namespace: namespace, event)
        } catch {
            // Events are best effort, as in client-go: losing one must not fail the controller.
        }
    }
}
