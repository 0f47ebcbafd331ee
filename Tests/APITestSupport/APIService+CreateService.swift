import APIMachinery
import APIRegistry
import KubeAPI

extension APIService {
    /// Creates a Service in `default` from its JSON: the stored object, or the API's refusal
    /// (the allocation tests look at both).
    package func createService(_ body: String, dryRun: Bool = false) async throws -> Result<KubeObject, APIError> {
        guard case .object(let fields) = try json(body) else { throw TestFailure("not a JSON object: \(body)") }
        do {
            let services = try store(group: "", name: "services")
            return .success(try await create(KubeObject(fields: fields), resource: services.resource, namespace: "default",
                                             context: context(dryRun: dryRun)).0)
        } catch {
            return .failure(error)
        }
    }
}
