@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// apps/v1 Deployment validation of the strategy and deadlines, with Kubernetes' messages.
@Suite struct DeploymentValidationTests {
    private func create(_ extraSpec: String, strategy: String = "") async throws -> APIError? {
        try await withTestAPI { api in
            do {
                guard case .object(let fields) = try json(deploymentJSON("web", replicas: 1, strategy: strategy, extraSpec: extraSpec)) else {
                    throw TestFailure("the Deployment fixture is not a JSON object")
                }
                _ = try await api.client.create(.deployments, namespace: "default", KubeObject(fields: fields))
                return nil
            } catch let error as APIError {
                return error
            }
        }
    }

    @Test func rejectsBadStrategiesAndDeadlines() async throws {
        let bothZero = try await create("", strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":0,"maxUnavailable":0}}"#)
        #expect(bothZero?.message.contains("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0") == true,
                "\(String(describing: bothZero))")
        let overHundred = try await create("", strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"110%"}}"#)
        #expect(overHundred?.message.contains(#"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%"#) == true,
                "\(String(describing: overHundred))")
        let notPercent = try await create("", strategy: #"{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"lots"}}"#)
        #expect(notPercent?.message.contains("a valid percent string must be a numeric string followed by an ending '%'") == true)
        let recreate = try await create("", strategy: #"{"type":"Recreate","rollingUpdate":{"maxSurge":1}}"#)
        #expect(recreate?.message.contains("spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'") == true)
        let unknown = try await create("", strategy: #"{"type":"BlueGreen"}"#)
        #expect(unknown?.message.contains(#"spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate""#) == true)
        let deadline = try await create(#""minReadySeconds":10,"progressDeadlineSeconds":5,"#)
        #expect(deadline?.message.contains("spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds") == true)
        #expect(try await create(#""minReadySeconds":1,"#, strategy: #"{"type":"Recreate"}"#) == nil)
    }
}
