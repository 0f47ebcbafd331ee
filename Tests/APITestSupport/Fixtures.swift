import APIMachinery
import KubeAPI

/// Parses a JSON literal written in a test.
package func json(_ text: String) throws -> JSONValue {
    try JSONParser.parse(Array(text.utf8))
}

/// An apps/v1 Deployment of `replicas` pods labelled `app: <name>`, as JSON.
package func deploymentJSON(_ name: String, replicas: Int, image: String = "nginx:1.25", strategy: String = "",
                    extraSpec: String = "") -> String {
    let strategyField = strategy.isEmpty ? "" : #""strategy":\#(strategy),"#
    return """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\(name)"},
         "spec":{"replicas":\(replicas),\(strategyField)\(extraSpec)"selector":{"matchLabels":{"app":"\(name)"}},
           "template":{"metadata":{"labels":{"app":"\(name)"}},
             "spec":{"containers":[{"name":"c","image":"\(image)"}]}}}}
        """
}

/// An apps/v1 ReplicaSet of `replicas` pods labelled `app: <name>, tier: front`, as JSON.
package func replicaSetJSON(_ name: String, replicas: Int, minReadySeconds: Int = 0, image: String = "busybox") -> String {
    """
    {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"\(name)"},
     "spec":{"replicas":\(replicas),"minReadySeconds":\(minReadySeconds),"selector":{"matchLabels":{"app":"\(name)"}},
       "template":{"metadata":{"labels":{"app":"\(name)","tier":"front"}},
         "spec":{"containers":[{"name":"c","image":"\(image)","command":["sleep","3600"]}]}}}}
    """
}
