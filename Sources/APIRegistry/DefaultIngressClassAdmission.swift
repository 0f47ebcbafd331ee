import APIMachinery
import Foundation
import KubeAPI

/// The DefaultIngressClass admission plugin for new Ingresses, as kube-apiserver runs it
/// (plugin/pkg/admission/network/defaultingressclass/admission.go): an Ingress created with
/// neither `spec.ingressClassName` nor the deprecated `kubernetes.io/ingress.class` annotation
/// gets the class annotated `ingressclass.kubernetes.io/is-default-class: "true"`. With
/// several such classes it picks the newest by creationTimestamp, the lower name on a tie
/// (since Kubernetes 1.25, kubernetes/kubernetes#110974; earlier releases refused the
/// Ingress). With none, the Ingress stays without a class. Updates are left alone, as
/// upstream: removing the class from an Ingress later does not bring the default back.
enum DefaultIngressClassAdmission {
    static func admit(_ ingress: inout KubeObject, classes: ResourceStore) async throws(APIError) {
        // A spec that is not an object is the schema check's to refuse.
        let specValue = ingress.fields["spec"]
        guard specValue == nil || specValue == .null || specValue?.objectValue != nil else { return }
        var spec = specValue?.objectValue ?? [:]
        if let className = spec["ingressClassName"], className != .null { return }
        if ingress.annotations[IngressClass.legacyClassAnnotation] != nil { return }
        let stored = try await classes.list(namespace: nil, options: ListOptions()).items
        guard let chosen = defaultClass(among: stored) else { return }
        spec["ingressClassName"] = .string(chosen)
        ingress.fields["spec"] = .object(spec)
    }

    /// The name of the default class among `classes`: the newest of those annotated default.
    static func defaultClass(among classes: [KubeObject]) -> String? {
        DefaultClassSelection.newest(of: classes) { $0.annotations[IngressClass.defaultClassAnnotation] == "true" }
    }
}
