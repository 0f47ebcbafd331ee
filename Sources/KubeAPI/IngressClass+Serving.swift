extension IngressClass {
    /// Whether swiftlet's ingress proxy serves an Ingress, decided as ingress-nginx decides
    /// for its own class (internal/ingress/annotations/class): the deprecated annotation
    /// `kubernetes.io/ingress.class`, when present, wins and must be `swiftlet`; otherwise
    /// `spec.ingressClassName` must name an IngressClass whose controller is
    /// `swiftlet.io/ingress`. An Ingress with neither is served by nobody (the
    /// DefaultIngressClass admission gives new ones the default class when there is one).
    /// - Parameters:
    ///   - controllerOf: the `spec.controller` of the IngressClass of that name, nil when
    ///     there is no such class.
    public static func servedBySwiftlet(className: String?, legacyAnnotation: String?,
                                        controllerOf: (String) -> String?) -> Bool {
        if let legacyAnnotation {
            return legacyAnnotation == swiftletClassName
        }
        guard let className, !className.isEmpty else { return false }
        return controllerOf(className) == swiftletController
    }

    /// `servedBySwiftlet` for a typed Ingress and the classes by name.
    public static func servedBySwiftlet(_ ingress: Ingress, classes: [String: IngressClass]) -> Bool {
        servedBySwiftlet(className: ingress.spec.ingressClassName,
                         legacyAnnotation: ingress.metadata.annotations?[legacyClassAnnotation]) { classes[$0]?.spec.controller }
    }
}
