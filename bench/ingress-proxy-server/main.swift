// bench/ingress.sh: the ingress proxy alone, serving one Ingress rule ("/" on every host) to the
// endpoints given on the command line, as the agent would after building its table; HTTPS with
// the default (self-signed) certificate.
//
// Usage: ingress-proxy-server HTTP_HOST:PORT HTTPS_HOST:PORT ENDPOINT_HOST:PORT...
import Foundation
import IngressProxy
import KubeAPI
import NIOPosix

let usage = "usage: ingress-proxy-server HTTP_HOST:PORT HTTPS_HOST:PORT ENDPOINT_HOST:PORT...\n"
let arguments = Array(CommandLine.arguments.dropFirst())

/// "host:port" split at its last colon.
func listener(_ text: String) -> IngressProxyConfig.Listener? {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else { return nil }
    return IngressProxyConfig.Listener(host: String(text[..<colon]), port: port)
}

guard arguments.count >= 3, let http = listener(arguments[0]), let https = listener(arguments[1]) else {
    FileHandle.standardError.write(Data(usage.utf8))
    exit(2)
}
var slices: [EndpointSlice] = []
for (index, endpoint) in arguments.dropFirst(2).enumerated() {
    guard let separator = endpoint.lastIndex(of: ":"), let number = Int32(endpoint[endpoint.index(after: separator)...]) else {
        FileHandle.standardError.write(Data("ingress-proxy-server: \(endpoint) is not HOST:PORT\n".utf8))
        exit(2)
    }
    slices.append(EndpointSlice(
        metadata: ObjectMeta(name: "bench-\(index)", namespace: "default", labels: [EndpointSlice.serviceNameLabel: "bench"]),
        endpoints: [Endpoint(addresses: [String(endpoint[..<separator])])],
        ports: [EndpointPort(name: "", protocol: "TCP", port: number)]))
}
let inputs = IngressRouteInputs(
    ingresses: [Ingress(metadata: ObjectMeta(name: "bench", namespace: "default"),
                        spec: IngressSpec(ingressClassName: IngressClass.swiftletClassName, rules: [
                            IngressRule(http: HTTPIngressRuleValue(paths: [HTTPIngressPath(
                                path: "/", pathType: "Prefix",
                                backend: IngressBackend(service: IngressServiceBackend(name: "bench", port: ServiceBackendPort(number: 80)))),
                            ])),
                        ]))],
    ingressClasses: [IngressClass(metadata: ObjectMeta(name: IngressClass.swiftletClassName),
                                  spec: IngressClassSpec(controller: IngressClass.swiftletController))],
    services: [Service(metadata: ObjectMeta(name: "bench", namespace: "default"), spec: ServiceSpec(ports: [ServicePort(port: 80)]))],
    endpointSlices: slices)
let (table, problems) = IngressRouteTable.build(inputs)
guard problems.isEmpty else {
    FileHandle.standardError.write(Data("ingress-proxy-server: \(problems)\n".utf8))
    exit(1)
}
let config = IngressProxyConfig(http: [http], https: [https])
let server = try await IngressProxyServer.start(config: config, group: MultiThreadedEventLoopGroup.singleton, initialTable: table)
FileHandle.standardOutput.write(Data("READY \((server.httpAddresses + server.httpsAddresses).map { "\($0)" }.joined(separator: " "))\n".utf8))
while true {
    try await Task.sleep(for: .seconds(3600))
}
