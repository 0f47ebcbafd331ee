import Foundation
import KubeAPI
import Testing

/// Service and EndpointSlice as the server writes them (kube-apiserver's JSON for
/// `kubectl expose` and the endpoint-slice controller's output).
struct ServiceTypesTests {
    @Test func decodesAServiceAsTheAPIServerWritesIt() throws {
        let json = #"""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},
         "spec":{"type":"NodePort","selector":{"app":"web"},"clusterIP":"10.43.0.20","clusterIPs":["10.43.0.20"],
                 "ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":"http","nodePort":30080}],
                 "sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}},
                 "externalTrafficPolicy":"Local","internalTrafficPolicy":"Cluster","ipFamilies":["IPv4"],
                 "ipFamilyPolicy":"SingleStack"},
         "status":{"loadBalancer":{}}}
        """#
        let service = try JSONDecoder().decode(Service.self, from: Data(json.utf8))
        #expect(service.spec.type == "NodePort")
        #expect(service.spec.ports?.first?.targetPort == .string("http"))
        #expect(service.spec.ports?.first?.nodePort == 30080)
        #expect(service.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == 10800)
        #expect(!service.spec.isHeadless)
        let again = try JSONDecoder().decode(Service.self, from: JSONEncoder().encode(service))
        #expect(again == service)
    }

    @Test func aServiceWithoutSpecDecodesEmpty() throws {
        let service = try JSONDecoder().decode(Service.self, from: Data(#"{"metadata":{"name":"x"}}"#.utf8))
        #expect(service.spec == ServiceSpec())
    }

    @Test func decodesAnEndpointSliceAndReadsUnsetConditionsAsKubernetesDoes() throws {
        let json = #"""
        {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
         "metadata":{"name":"web-abcde","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},
         "addressType":"IPv4",
         "endpoints":[{"addresses":["10.42.0.5"],"conditions":{"ready":true,"serving":true,"terminating":false},
                       "nodeName":"a","targetRef":{"kind":"Pod","namespace":"default","name":"web-1","uid":"u1"}},
                      {"addresses":["10.42.1.7"],"conditions":{"ready":false,"serving":true,"terminating":true}},
                      {"addresses":["10.42.1.8"]}],
         "ports":[{"name":"http","protocol":"TCP","port":8080}]}
        """#
        let slice = try JSONDecoder().decode(EndpointSlice.self, from: Data(json.utf8))
        #expect(slice.serviceName == "web")
        #expect(slice.endpoints.map(\.isReady) == [true, false, true])
        #expect(slice.endpoints.map(\.isServing) == [true, true, true])
        #expect(slice.endpoints.map(\.isTerminating) == [false, true, false])
        #expect(slice.endpoints[0].targetRef?.name == "web-1")
        #expect(slice.ports?.first?.port == 8080)
    }

    @Test func aSliceWithNullEndpointsHasNone() throws {
        let slice = try JSONDecoder().decode(EndpointSlice.self, from: Data(#"{"addressType":"IPv4","endpoints":null}"#.utf8))
        #expect(slice.endpoints.isEmpty)
    }
}
