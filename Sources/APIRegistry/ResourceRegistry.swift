import APIMachinery
import KubeAPI

/// The resources this server implements, and lookups over them.
public struct ResourceRegistry: Sendable {
    public let resources: [APIResource]

    public init(resources: [APIResource] = ResourceRegistry.builtIn) {
        self.resources = resources
    }

    /// The resource at `/api[s]/<group>/<version>/<name>`.
    public func resource(group: String, version: String, name: String) -> APIResource? {
        resources.first { $0.group == group && $0.version == version && $0.name == name }
    }

    /// Group/versions served, in discovery order, with their resources.
    public var groupVersions: [(group: String, version: String)] {
        var seen: [(String, String)] = []
        for resource in resources where !seen.contains(where: { $0 == (resource.group, resource.version) }) {
            seen.append((resource.group, resource.version))
        }
        return seen.map { (group: $0.0, version: $0.1) }
    }

    /// The built-in resources of a small cluster.
    public static let builtIn: [APIResource] = [
        APIResource(group: "", version: "v1", name: "namespaces", singularName: "namespace", kind: "Namespace",
                    namespaced: false, shortNames: ["ns"], subresources: ["status"], nameRule: .dns1123Label,
                    selectableFields: ["status.phase": ["status", "phase"]]),
        APIResource(group: "", version: "v1", name: "nodes", singularName: "node", kind: "Node",
                    namespaced: false, shortNames: ["no"], subresources: ["status"],
                    selectableFields: ["spec.unschedulable": ["spec", "unschedulable"]]),
        APIResource(group: "", version: "v1", name: "pods", singularName: "pod", kind: "Pod",
                    namespaced: true, shortNames: ["po"], categories: ["all"], subresources: ["status", "binding", "eviction", "ephemeralcontainers"],
                    selectableFields: [
                        "spec.nodeName": ["spec", "nodeName"],
                        "spec.restartPolicy": ["spec", "restartPolicy"],
                        "spec.schedulerName": ["spec", "schedulerName"],
                        "spec.serviceAccountName": ["spec", "serviceAccountName"],
                        "spec.hostNetwork": ["spec", "hostNetwork"],
                        "status.phase": ["status", "phase"],
                        "status.podIP": ["status", "podIP"],
                        "status.nominatedNodeName": ["status", "nominatedNodeName"],
                    ],
                    tracksGeneration: true),
        APIResource(group: "", version: "v1", name: "services", singularName: "service", kind: "Service",
                    namespaced: true, shortNames: ["svc"], categories: ["all"], subresources: ["status"],
                    nameRule: .dns1035Label,
                    selectableFields: ["spec.clusterIP": ["spec", "clusterIP"], "spec.type": ["spec", "type"]]),
        APIResource(group: "", version: "v1", name: "endpoints", singularName: "endpoints", kind: "Endpoints",
                    namespaced: true, shortNames: ["ep"]),
        APIResource(group: "", version: "v1", name: "events", singularName: "event", kind: "Event",
                    namespaced: true, shortNames: ["ev"],
                    selectableFields: [
                        "involvedObject.kind": ["involvedObject", "kind"],
                        "involvedObject.namespace": ["involvedObject", "namespace"],
                        "involvedObject.name": ["involvedObject", "name"],
                        "involvedObject.uid": ["involvedObject", "uid"],
                        "involvedObject.apiVersion": ["involvedObject", "apiVersion"],
                        "involvedObject.resourceVersion": ["involvedObject", "resourceVersion"],
                        "involvedObject.fieldPath": ["involvedObject", "fieldPath"],
                        "reason": ["reason"],
                        "reportingComponent": ["reportingComponent"],
                        "source": ["source", "component"],
                        "type": ["type"],
                    ]),
        APIResource(group: "", version: "v1", name: "configmaps", singularName: "configmap", kind: "ConfigMap",
                    namespaced: true, shortNames: ["cm"]),
        APIResource(group: "", version: "v1", name: "secrets", singularName: "secret", kind: "Secret",
                    namespaced: true, selectableFields: ["type": ["type"]]),
        APIResource(group: "", version: "v1", name: "serviceaccounts", singularName: "serviceaccount", kind: "ServiceAccount",
                    namespaced: true, shortNames: ["sa"], subresources: ["token"]),
        // Namespace policy (issue 17): quota usage kept by the resourcequota controller and
        // charged by the ResourceQuota admission plugin; LimitRanger's defaults and bounds.
        APIResource(group: "", version: "v1", name: "resourcequotas", singularName: "resourcequota", kind: "ResourceQuota",
                    namespaced: true, shortNames: ["quota"], subresources: ["status"]),
        APIResource(group: "", version: "v1", name: "limitranges", singularName: "limitrange", kind: "LimitRange",
                    namespaced: true, shortNames: ["limits"]),
        // The legacy workload types (issue 17): ReplicaSet's predecessor, kept by the
        // replicationcontroller controller, and named pod templates.
        APIResource(group: "", version: "v1", name: "replicationcontrollers", singularName: "replicationcontroller",
                    kind: "ReplicationController", namespaced: true, shortNames: ["rc"], categories: ["all"],
                    subresources: ["status", "scale"], tracksGeneration: true),
        APIResource(group: "", version: "v1", name: "podtemplates", singularName: "podtemplate", kind: "PodTemplate",
                    namespaced: true),
        // Storage (issue 17): claims bound to volumes by the persistentvolume-binder controller,
        // volumes made by the built-in local-path provisioner or by hand, mounted by the agent.
        APIResource(group: "", version: "v1", name: "persistentvolumes", singularName: "persistentvolume", kind: "PersistentVolume",
                    namespaced: false, shortNames: ["pv"], subresources: ["status"]),
        APIResource(group: "", version: "v1", name: "persistentvolumeclaims", singularName: "persistentvolumeclaim",
                    kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"], subresources: ["status"]),
        APIResource(group: "apps", version: "v1", name: "deployments", singularName: "deployment", kind: "Deployment",
                    namespaced: true, shortNames: ["deploy"], categories: ["all"], subresources: ["status", "scale"],
                    tracksGeneration: true),
        APIResource(group: "apps", version: "v1", name: "replicasets", singularName: "replicaset", kind: "ReplicaSet",
                    namespaced: true, shortNames: ["rs"], categories: ["all"], subresources: ["status", "scale"],
                    selectableFields: ["status.replicas": ["status", "replicas"]],
                    tracksGeneration: true),
        APIResource(group: "apps", version: "v1", name: "daemonsets", singularName: "daemonset", kind: "DaemonSet",
                    namespaced: true, shortNames: ["ds"], categories: ["all"], subresources: ["status"], tracksGeneration: true),
        APIResource(group: "apps", version: "v1", name: "statefulsets", singularName: "statefulset", kind: "StatefulSet",
                    namespaced: true, shortNames: ["sts"], categories: ["all"], subresources: ["status", "scale"],
                    nameRule: .dns1123Label, tracksGeneration: true),
        // The template history of StatefulSets and DaemonSets, read by `kubectl rollout history/undo`.
        APIResource(group: "apps", version: "v1", name: "controllerrevisions", singularName: "controllerrevision",
                    kind: "ControllerRevision", namespaced: true),
        // The core events in events.k8s.io/v1's form (EventsV1Conversion), over the same stored
        // objects; field selectors in this version's names (pkg/apis/events/v1/conversion.go).
        // kube-apiserver lists the group right after apps.
        APIResource(group: "events.k8s.io", version: "v1", name: "events", singularName: "event", kind: "Event",
                    namespaced: true, shortNames: ["ev"],
                    selectableFields: [
                        "regarding.kind": ["regarding", "kind"],
                        "regarding.namespace": ["regarding", "namespace"],
                        "regarding.name": ["regarding", "name"],
                        "regarding.uid": ["regarding", "uid"],
                        "regarding.apiVersion": ["regarding", "apiVersion"],
                        "regarding.resourceVersion": ["regarding", "resourceVersion"],
                        "regarding.fieldPath": ["regarding", "fieldPath"],
                        "reason": ["reason"],
                        "reportingController": ["reportingController"],
                        "type": ["type"],
                    ],
                    storedAs: GroupResource(group: "", resource: "events")),
        APIResource(group: "batch", version: "v1", name: "jobs", singularName: "job", kind: "Job",
                    namespaced: true, categories: ["all"], subresources: ["status"], tracksGeneration: true),
        APIResource(group: "batch", version: "v1", name: "cronjobs", singularName: "cronjob", kind: "CronJob",
                    namespaced: true, shortNames: ["cj"], categories: ["all"], subresources: ["status"], tracksGeneration: true),
        // Served by every node's ingress proxy (IngressClass `swiftlet`); kube-apiserver lists
        // networking.k8s.io after batch. Ingresses are in no category: `kubectl get all` leaves them out.
        APIResource(group: "networking.k8s.io", version: "v1", name: "ingressclasses", singularName: "ingressclass",
                    kind: "IngressClass", namespaced: false, tracksGeneration: true),
        APIResource(group: "networking.k8s.io", version: "v1", name: "ingresses", singularName: "ingress", kind: "Ingress",
                    namespaced: true, shortNames: ["ing"], subresources: ["status"], tracksGeneration: true),
        // The disruption controller keeps their status; pods/eviction and `kubectl drain` honour
        // them. kube-apiserver lists policy after networking.k8s.io.
        APIResource(group: "policy", version: "v1", name: "poddisruptionbudgets", singularName: "poddisruptionbudget",
                    kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], subresources: ["status"], tracksGeneration: true),
        // StorageClasses: how claims without a volume get one (kube-apiserver lists storage.k8s.io
        // after policy and rbac, before scheduling.k8s.io).
        APIResource(group: "storage.k8s.io", version: "v1", name: "storageclasses", singularName: "storageclass",
                    kind: "StorageClass", namespaced: false, shortNames: ["sc"]),
        // The Priority admission plugin resolves pods' priorityClassName through them; the
        // scheduler orders and preempts by the result. kube-apiserver lists scheduling.k8s.io
        // after policy (and the groups swiftlet does not serve) and before coordination.k8s.io.
        APIResource(group: "scheduling.k8s.io", version: "v1", name: "priorityclasses", singularName: "priorityclass",
                    kind: "PriorityClass", namespaced: false, shortNames: ["pc"]),
        APIResource(group: "coordination.k8s.io", version: "v1", name: "leases", singularName: "lease", kind: "Lease",
                    namespaced: true),
        // What the endpoint-slice controller writes and every node's service proxy and DNS read.
        APIResource(group: "discovery.k8s.io", version: "v1", name: "endpointslices", singularName: "endpointslice",
                    kind: "EndpointSlice", namespaced: true),
        // Served by APIServer's security layer (Sources/APIServer/Security/APIHandler+Security.swift), listed for discovery.
        APIResource(group: "authentication.k8s.io", version: "v1", name: "tokenreviews", singularName: "tokenreview",
                    kind: "TokenReview", namespaced: false),
    ]
}
