import APIMachinery
import KubeAPI

extension APIService {
    /// The system PriorityClasses, `system-node-critical` and `system-cluster-critical`, as
    /// kube-apiserver's scheduling post-start hook creates them
    /// (pkg/registry/scheduling/rest/storage_scheduling.go `AddSystemPriorityClasses`): each
    /// created when missing, at every server start, an existing one left as it is. They cannot
    /// be deleted (`delete`), and validation keeps their name, value and globalDefault.
    func ensureSystemPriorityClasses() async throws(APIError) {
        guard let classes = try? store(group: "scheduling.k8s.io", name: "priorityclasses") else { return }
        for systemClass in PriorityClass.systemClasses {
            guard let name = systemClass.metadata.name, try await classes.find(namespace: nil, name: name) == nil else { continue }
            var fields: [String: JSONValue] = [
                "metadata": .object(["name": .string(name)]), "value": .int(Int64(systemClass.value)),
            ]
            if let description = systemClass.description { fields["description"] = .string(description) }
            do {
                _ = try await create(KubeObject(fields: fields), resource: classes.resource, namespace: nil, context: context())
            } catch where error.code == 409 {
                // Another server of the same store made it first.
            }
        }
    }
}
