import APIMachinery

/// A resource served in a form other than the one stored: kube-apiserver converts between the
/// version a request speaks and the storage version of the resource, so two resources can share
/// one set of stored objects (events.k8s.io/v1's events are core/v1's events). The store applies
/// `toStored` to every object it writes and `fromStored` to every object it reads, lists or
/// watches, so selectors, patches, validation and tables all see the served form.
package protocol StoredFormConversion: Sendable {
    /// The object as stored, from the object as this resource serves it.
    func toStored(_ object: KubeObject) -> KubeObject
    /// The object as this resource serves it, from the stored object.
    func fromStored(_ object: KubeObject) -> KubeObject
}
