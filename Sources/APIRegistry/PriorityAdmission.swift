import APIMachinery
import KubeAPI

/// The Priority admission plugin as Kubernetes 1.32 runs it
/// (plugin/pkg/admission/priority/admission.go):
/// - a new pod's `priorityClassName` is resolved into `spec.priority` and
///   `spec.preemptionPolicy`; a pod naming no class gets the global default class (its name
///   too), else priority 0 and PreemptLowerPriority;
/// - a class that does not exist refuses the pod (403, `no PriorityClass with name X was
///   found`); so does a pod whose own `priority` or `preemptionPolicy` differs from what its
///   class gives (a pod may repeat them, as one copied from another does);
/// - the system classes may be named from any namespace: 1.17 dropped the kube-system-only
///   rule (`priorityClassPermittedInNamespace`), leaving ResourceQuota's PriorityClass scope
///   to limit them;
/// - a PriorityClass marked globalDefault is refused while another class is the default.
/// Upstream's plugin mutates pods (after ServiceAccount) and validates PriorityClasses.
enum PriorityAdmission {
    static let podResource = GroupResource(group: "", resource: "pods")
    static let classResource = GroupResource(group: "scheduling.k8s.io", resource: "priorityclasses")

    /// Mutating admission of a pod create. Fields of the wrong type (a `priority` that is not a
    /// number, a class name or policy that is not a string) are left for the pod strategy's
    /// decoder to refuse, as upstream decodes before admission.
    static func admit(_ pod: inout KubeObject, classes: ResourceStore) async throws(APIError) {
        var spec = pod.fields["spec"]?.objectValue ?? [:]
        func present(_ key: String) -> JSONValue? { spec[key].flatMap { $0 == .null ? nil : $0 } }
        let given = present("priority")
        if let given, given.intValue == nil { return }
        if let name = present("priorityClassName"), name.stringValue == nil { return }
        if let policy = present("preemptionPolicy"), policy.stringValue == nil { return }
        let className = spec["priorityClassName"]?.stringValue ?? ""
        var priority = Int64(PriorityClass.defaultPriority)
        var policy: String? = PriorityClass.preemptLowerPriority
        if className.isEmpty {
            if let defaultClass = try await defaultClass(classes) {
                spec["priorityClassName"] = .string(defaultClass.name ?? "")
                priority = defaultClass.value(at: ["value"])?.intValue ?? 0
                policy = defaultClass.string(at: ["preemptionPolicy"])
            }
        } else {
            guard let found = try await classes.find(namespace: nil, name: className) else {
                throw forbidden(pod, "no PriorityClass with name \(className) was found")
            }
            priority = found.value(at: ["value"])?.intValue ?? 0
            policy = found.string(at: ["preemptionPolicy"])
        }
        if let value = given?.intValue, value != priority {
            throw forbidden(pod, "the integer value of priority (\(value)) must not be provided in pod spec; "
                            + "priority admission controller computed \(priority) from the given PriorityClass name")
        }
        spec["priority"] = .int(priority)
        if let policy {
            if let podPolicy = spec["preemptionPolicy"]?.stringValue, podPolicy != policy {
                throw forbidden(pod, "the string value of PreemptionPolicy (\(podPolicy)) must not be provided in pod spec; "
                                + "priority admission controller computed \(policy) from the given PriorityClass name")
            }
            spec["preemptionPolicy"] = .string(policy)
        }
        pod.fields["spec"] = .object(spec)
    }

    /// Validating admission of a PriorityClass create or update (`validatePriorityClass`): at
    /// most one global default; an update of the default class itself is fine.
    static func validateClass(_ object: KubeObject, isUpdate: Bool, classes: ResourceStore) async throws(APIError) {
        guard object.value(at: ["globalDefault"])?.boolValue == true else { return }
        guard let current = try await defaultClass(classes) else { return }
        if !isUpdate || current.name != object.name {
            throw APIError.forbidden(classResource, name: object.name ?? "",
                                     "PriorityClass \(current.name ?? "") is already marked as default. Only one default can exist")
        }
    }

    /// `getDefaultPriorityClass`: the global default class; if a race left several, the one
    /// with the lowest value.
    static func defaultClass(_ classes: ResourceStore) async throws(APIError) -> KubeObject? {
        let all = try await classes.list(namespace: nil, options: ListOptions()).items
        return all.filter { $0.value(at: ["globalDefault"])?.boolValue == true }
            .min { ($0.value(at: ["value"])?.intValue ?? 0) < ($1.value(at: ["value"])?.intValue ?? 0) }
    }

    /// `admission.NewForbidden`: the pod is named by its name, else its generateName, else
    /// "Unknown" (names are generated after admission).
    private static func forbidden(_ pod: KubeObject, _ why: String) -> APIError {
        let name = pod.name.flatMap { $0.isEmpty ? nil : $0 }
            ?? pod.string(at: ["metadata", "generateName"]).flatMap { $0.isEmpty ? nil : $0 } ?? "Unknown"
        return APIError.forbidden(podResource, name: name, why)
    }
}
