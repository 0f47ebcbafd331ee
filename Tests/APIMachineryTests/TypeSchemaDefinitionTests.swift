@testable import APIMachinery
import KubeAPI
import Testing

/// `TypeSchema.definition(of:)`: the OpenAPI facts generated from generated.proto's comments,
/// checked against what kube-apiserver 1.32 publishes in api/openapi-spec/swagger.json.
@Suite struct TypeSchemaDefinitionTests {
    func definition(_ name: String) throws -> TypeSchema.Definition {
        try #require(TypeSchema.definition(of: name), "no definition of \(name)")
    }

    func property(_ message: String, _ name: String) throws -> TypeSchema.Property {
        try #require(try definition(message).property(name), "\(message) has no \(name)")
    }

    @Test func containerPortsAreAListMapKeyedByPortAndProtocol() throws {
        let ports = try property("Container", "ports")
        #expect(ports.type == "ContainerPort" && ports.repeated && !ports.map)
        #expect(ports.listType == "map")
        #expect(ports.listMapKeys == ["containerPort", "protocol"])
        #expect(ports.patchMergeKey == "containerPort")
        #expect(ports.patchStrategy == "merge")
        #expect(!ports.required)
        // swagger.json: ContainerPort requires containerPort only; protocol defaults to TCP.
        #expect(try definition("ContainerPort").required == ["containerPort"])
        #expect(try property("ContainerPort", "protocol").defaultValue == .string("TCP"))
    }

    @Test func podSpecContainersMergeByName() throws {
        let containers = try property("PodSpec", "containers")
        #expect(containers.patchMergeKey == "name" && containers.patchStrategy == "merge")
        #expect(containers.listType == "map" && containers.listMapKeys == ["name"])
        #expect(containers.required)
        #expect(try definition("PodSpec").required == ["containers"])
        let volumes = try property("PodSpec", "volumes")
        #expect(volumes.patchStrategy == "merge,retainKeys")
    }

    @Test func objectMetaFinalizersAreASetAndLabelsAMap() throws {
        let finalizers = try property("ObjectMeta", "finalizers")
        #expect(finalizers.listType == "set" && finalizers.patchStrategy == "merge" && finalizers.type == "string")
        let labels = try property("ObjectMeta", "labels")
        #expect(labels.map && labels.type == "string" && !labels.repeated)
        let owners = try property("ObjectMeta", "ownerReferences")
        #expect(owners.patchMergeKey == "uid" && owners.listType == "map" && owners.listMapKeys == ["uid"])
        #expect(try definition("ObjectMeta").required.isEmpty)
    }

    @Test func kindsStartWithTypeMetaThenTheirFieldsInGoOrder() throws {
        let pod = try definition("Pod")
        #expect(pod.isKind)
        #expect(pod.properties.map(\.name) == ["apiVersion", "kind", "metadata", "spec", "status"])
        #expect(pod.openAPIName == "io.k8s.api.core.v1.Pod")
        #expect(pod.groupVersion?.group == "" && pod.groupVersion?.version == "v1")
        #expect(pod.description.hasPrefix("Pod is a collection of containers that can run on a host."))
        // Container's JSON order is its Go struct's: envFrom (field 19) sits before env (7).
        let order = try definition("Container").properties.map(\.name)
        #expect(Array(order.prefix(8)) == ["name", "image", "command", "args", "workingDir", "ports", "envFrom", "env"])
        // Not kinds: no apiVersion/kind.
        #expect(try definition("PodTemplateSpec").properties.map(\.name) == ["metadata", "spec"])
        #expect(try definition("WatchEvent").properties.map(\.name) == ["type", "object"])
        #expect(try definition("PodList").required == ["items"])
    }

    @Test func definitionNamesFollowTheProtoPackages() throws {
        #expect(try definition("Deployment").openAPIName == "io.k8s.api.apps.v1.Deployment")
        #expect(try definition("Deployment").groupVersion?.group == "apps")
        #expect(try definition("Ingress").groupVersion?.group == "networking.k8s.io")
        #expect(try definition("events.v1.Event").openAPIName == "io.k8s.api.events.v1.Event")
        #expect(try definition("events.v1.Event").goName == "Event")
        #expect(try definition("events.v1.Event").groupVersion?.group == "events.k8s.io")
        #expect(try definition("discovery.v1.EndpointSlice").openAPIName == "io.k8s.api.discovery.v1.EndpointSlice")
        #expect(try definition("ObjectMeta").openAPIName == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
        #expect(try definition("ObjectMeta").groupVersion == nil)
        #expect(try definition("Quantity").openAPIName == "io.k8s.apimachinery.pkg.api.resource.Quantity")
        #expect(try definition("IntOrString").openAPIName == "io.k8s.apimachinery.pkg.util.intstr.IntOrString")
        #expect(try definition("RawExtension").openAPIName == "io.k8s.apimachinery.pkg.runtime.RawExtension")
        #expect(try definition("Time").openAPIName == "io.k8s.apimachinery.pkg.apis.meta.v1.Time")
        #expect(try definition("Scale").openAPIName == "io.k8s.api.autoscaling.v1.Scale")
        #expect(try definition("Scale").groupVersion?.group == "autoscaling")
    }

    @Test func descriptionsAreFormattedAsOpenAPIGenDoes() throws {
        #expect(try property("Container", "name").description
            == "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.")
        // The `---` tail and the markers are dropped; +structType=atomic becomes the map type.
        let reference = try definition("LocalObjectReference")
        #expect(reference.description
            == "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.")
        #expect(reference.mapType == "atomic")
        // Markers never leak into descriptions.
        for definition in TypeSchema.definitions.values {
            #expect(!definition.description.contains("+optional"), "\(definition.name)")
            for property in definition.properties {
                #expect(!property.description.contains("+listType") && !property.description.contains("+optional"),
                        "\(definition.name).\(property.name)")
            }
        }
    }

    @Test func enumTypesListTheirValuesAsOpenAPIGenDoes() throws {
        let type = try property("DeploymentStrategy", "type")
        #expect(type.enumValues == ["Recreate", "RollingUpdate"])
        #expect(type.description == """
            Type of deployment. Can be "Recreate" or "RollingUpdate". Default is RollingUpdate.

            Possible enum values:
             - `"Recreate"` Kill all existing pods before creating new ones.
             - `"RollingUpdate"` Replace the old ReplicaSets by new one using rolling update i.e gradually scale down the old ReplicaSets and scale up the new one.
            """)
        #expect(try property("Container", "imagePullPolicy").enumValues == ["Always", "IfNotPresent", "Never"])
        #expect(try property("ContainerPort", "protocol").enumValues == ["SCTP", "TCP", "UDP"])
        #expect(try property("Container", "name").enumValues.isEmpty)
    }

    @Test func defaultsAreTheZeroValuesGoAlwaysWrites() throws {
        // kube-openapi's mustEnforceDefault: {} for a struct that is not a pointer, the zero of
        // a scalar without omitempty; nothing for pointers, omitempty scalars, custom JSON types.
        #expect(try property("Pod", "metadata").defaultValue == .object([:]))
        #expect(try property("Pod", "spec").defaultValue == .object([:]))
        #expect(try property("Container", "name").defaultValue == .string(""))
        #expect(try property("ContainerPort", "containerPort").defaultValue == .int(0))
        #expect(try property("Container", "image").defaultValue == nil)
        #expect(try property("Container", "livenessProbe").defaultValue == nil)
        #expect(try property("DeploymentSpec", "replicas").defaultValue == nil)
        #expect(try property("ObjectMeta", "creationTimestamp").defaultValue == nil)
        #expect(try property("ServicePort", "targetPort").defaultValue == nil)
    }

    @Test func inlineStructsContributeTheirMembers() throws {
        let volume = try definition("Volume")
        #expect(volume.property("volumeSource") == nil)
        #expect(volume.property("secret")?.type == "SecretVolumeSource")
        #expect(volume.property("configMap")?.type == "ConfigMapVolumeSource")
        #expect(volume.required == ["name"])
        #expect(try definition("Probe").property("httpGet")?.type == "HTTPGetAction")
        #expect(try definition("SecretKeySelector").properties.map(\.name) == ["name", "key", "optional"])
    }

    @Test func requiredFollowsTheOptionalMarker() throws {
        #expect(try property("Container", "name").required)
        #expect(try !property("Container", "image").required)
        #expect(try definition("DeploymentSpec").required == ["selector", "template"])
        #expect(try definition("ServicePort").required == ["port"])
        #expect(try definition("OwnerReference").required == ["apiVersion", "kind", "name", "uid"])
    }

    @Test func everyTypeAFieldNamesHasADefinition() throws {
        #expect(TypeSchema.definitions.count > 250)
        for definition in TypeSchema.definitions.values {
            for property in definition.properties where !property.isScalar {
                #expect(TypeSchema.definition(of: property.type) != nil, "\(definition.name).\(property.name): \(property.type)")
            }
        }
        // Every message the protobuf and validation tables know has its facts too.
        for name in TypeSchema.messages.keys {
            #expect(TypeSchema.definition(of: name) != nil, "\(name)")
        }
        // A Go slice type wrapped for protobuf is its array.
        #expect(try definition("ExtraValue").arrayOf == "string")
    }
}
