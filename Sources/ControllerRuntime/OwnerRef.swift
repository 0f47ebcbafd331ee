import APIMachinery
import KubeAPI

/// A `metadata.ownerReferences` entry, as far as controllers need it.
package struct OwnerRef: Sendable, Equatable {
    package var apiVersion: String
    package var kind: String
    package var name: String
    package var uid: String
    package var controller: Bool

    package init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
    }

    package init?(_ value: JSONValue) {
        guard let uid = value["uid"]?.stringValue, let name = value["name"]?.stringValue else { return nil }
        self.init(apiVersion: value["apiVersion"]?.stringValue ?? "", kind: value["kind"]?.stringValue ?? "", name: name, uid: uid,
                  controller: value["controller"]?.boolValue ?? false)
    }

    /// The reference a controller puts on what it creates or adopts (`metav1.NewControllerRef`):
    /// `controller` and `blockOwnerDeletion` true, so the garbage collector's foreground
    /// deletion waits for it.
    package static func controllerRef(to owner: KubeObject) -> JSONValue {
        .object([
            "apiVersion": .string(owner.apiVersion ?? ""), "kind": .string(owner.kind ?? ""),
            "name": .string(owner.name ?? ""), "uid": .string(owner.uid ?? ""),
            "controller": .bool(true), "blockOwnerDeletion": .bool(true),
        ])
    }
}

extension KubeObject {
    /// The owner reference with `controller: true`, if any (`metav1.GetControllerOf`).
    package var controllerRef: OwnerRef? {
        (metadata["ownerReferences"]?.arrayValue ?? []).compactMap(OwnerRef.init).first { $0.controller }
    }
}
