/// A resource by API group and plural name (`apps`, `replicasets`).
package struct ResourceRef: Hashable, Sendable, CustomStringConvertible {
    package let group: String
    package let name: String

    package init(group: String, name: String) {
        self.group = group
        self.name = name
    }

    package static let pods = ResourceRef(group: "", name: "pods")
    package static let nodes = ResourceRef(group: "", name: "nodes")
    package static let namespaces = ResourceRef(group: "", name: "namespaces")
    package static let events = ResourceRef(group: "", name: "events")
    package static let services = ResourceRef(group: "", name: "services")
    package static let endpoints = ResourceRef(group: "", name: "endpoints")
    package static let endpointSlices = ResourceRef(group: "discovery.k8s.io", name: "endpointslices")
    package static let replicaSets = ResourceRef(group: "apps", name: "replicasets")
    package static let deployments = ResourceRef(group: "apps", name: "deployments")
    package static let daemonSets = ResourceRef(group: "apps", name: "daemonsets")
    package static let statefulSets = ResourceRef(group: "apps", name: "statefulsets")
    package static let controllerRevisions = ResourceRef(group: "apps", name: "controllerrevisions")
    package static let jobs = ResourceRef(group: "batch", name: "jobs")
    package static let cronJobs = ResourceRef(group: "batch", name: "cronjobs")
    package static let configMaps = ResourceRef(group: "", name: "configmaps")
    package static let secrets = ResourceRef(group: "", name: "secrets")
    package static let resourceQuotas = ResourceRef(group: "", name: "resourcequotas")
    package static let limitRanges = ResourceRef(group: "", name: "limitranges")
    package static let leases = ResourceRef(group: "coordination.k8s.io", name: "leases")
    package static let ingresses = ResourceRef(group: "networking.k8s.io", name: "ingresses")
    package static let ingressClasses = ResourceRef(group: "networking.k8s.io", name: "ingressclasses")
    package static let podDisruptionBudgets = ResourceRef(group: "policy", name: "poddisruptionbudgets")
    package static let replicationControllers = ResourceRef(group: "", name: "replicationcontrollers")
    package static let podTemplates = ResourceRef(group: "", name: "podtemplates")
    package static let priorityClasses = ResourceRef(group: "scheduling.k8s.io", name: "priorityclasses")
    package static let persistentVolumes = ResourceRef(group: "", name: "persistentvolumes")
    package static let persistentVolumeClaims = ResourceRef(group: "", name: "persistentvolumeclaims")
    package static let storageClasses = ResourceRef(group: "storage.k8s.io", name: "storageclasses")

    package var description: String { group.isEmpty ? name : "\(name).\(group)" }
}
