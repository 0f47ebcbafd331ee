import APIMachinery
import Foundation
import KubeAPI

/// How kube-apiserver's defaulting admission plugins choose among several classes marked
/// default (IngressClasses, StorageClasses): the newest by creationTimestamp, the lower name on
/// a tie (Kubernetes 1.25 for IngressClasses, kubernetes/kubernetes#110974; 1.26 for
/// StorageClasses, #110559; earlier releases refused the object).
enum DefaultClassSelection {
    static func newest(of classes: [KubeObject], where isDefault: (KubeObject) -> Bool) -> String? {
        var best: (name: String, created: Date)?
        for candidate in classes where isDefault(candidate) {
            let name = candidate.name ?? ""
            let created = candidate.creationTimestamp.flatMap(Time.init(rfc3339:))?.date ?? .distantPast
            if let current = best, current.created > created || (current.created == created && current.name < name) { continue }
            best = (name, created)
        }
        return best?.name
    }
}
