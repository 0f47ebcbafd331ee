/// One container of a pod: what to run and how.
public struct Container: Codable, Hashable, Sendable {
    public var name: String
    public var image: String?
    /// Replaces the image's ENTRYPOINT.
    public var command: [String]?
    /// Replaces the image's CMD.
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var envFrom: [EnvFromSource]?
    public var env: [EnvVar]?
    public var resources: ResourceRequirements?
    public var resizePolicy: [JSONValue]?
    public var volumeMounts: [VolumeMount]?
    public var volumeDevices: [VolumeDevice]?
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?
    public var terminationMessagePath: String?
    /// "File" (default) or "FallbackToLogsOnError".
    public var terminationMessagePolicy: String?
    /// "Always", "IfNotPresent" or "Never".
    public var imagePullPolicy: String?
    public var securityContext: SecurityContext?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?
    /// Only "Always", and only on init containers: makes them sidecars.
    public var restartPolicy: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        image: String? = nil,
        command: [String]? = nil,
        args: [String]? = nil,
        workingDir: String? = nil,
        ports: [ContainerPort]? = nil,
        envFrom: [EnvFromSource]? = nil,
        env: [EnvVar]? = nil,
        resources: ResourceRequirements? = nil,
        resizePolicy: [JSONValue]? = nil,
        volumeMounts: [VolumeMount]? = nil,
        volumeDevices: [VolumeDevice]? = nil,
        livenessProbe: Probe? = nil,
        readinessProbe: Probe? = nil,
        startupProbe: Probe? = nil,
        lifecycle: Lifecycle? = nil,
        terminationMessagePath: String? = nil,
        terminationMessagePolicy: String? = nil,
        imagePullPolicy: String? = nil,
        securityContext: SecurityContext? = nil,
        stdin: Bool? = nil,
        stdinOnce: Bool? = nil,
        tty: Bool? = nil,
        restartPolicy: String? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.workingDir = workingDir
        self.ports = ports
        self.envFrom = envFrom
        self.env = env
        self.resources = resources
        self.resizePolicy = resizePolicy
        self.volumeMounts = volumeMounts
        self.volumeDevices = volumeDevices
        self.livenessProbe = livenessProbe
        self.readinessProbe = readinessProbe
        self.startupProbe = startupProbe
        self.lifecycle = lifecycle
        self.terminationMessagePath = terminationMessagePath
        self.terminationMessagePolicy = terminationMessagePolicy
        self.imagePullPolicy = imagePullPolicy
        self.securityContext = securityContext
        self.stdin = stdin
        self.stdinOnce = stdinOnce
        self.tty = tty
        self.restartPolicy = restartPolicy
    }
}

/// A port the container listens on (informational, plus hostPort forwarding).
public struct ContainerPort: Codable, Hashable, Sendable {
    public var name: String?
    public var hostPort: Int32?
    public var containerPort: Int32
    /// "TCP" (default), "UDP" or "SCTP".
    public var `protocol`: String?
    public var hostIP: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String? = nil,
        hostPort: Int32? = nil,
        containerPort: Int32,
        `protocol`: String? = nil,
        hostIP: String? = nil
    ) {
        self.name = name
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.`protocol` = `protocol`
        self.hostIP = hostIP
    }
}

/// One environment variable, given literally or taken from another object.
public struct EnvVar: Codable, Hashable, Sendable {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSource?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        value: String? = nil,
        valueFrom: EnvVarSource? = nil
    ) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

/// Where an environment variable's value comes from (exactly one).
public struct EnvVarSource: Codable, Hashable, Sendable {
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var configMapKeyRef: ConfigMapKeySelector?
    public var secretKeyRef: SecretKeySelector?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        fieldRef: ObjectFieldSelector? = nil,
        resourceFieldRef: ResourceFieldSelector? = nil,
        configMapKeyRef: ConfigMapKeySelector? = nil,
        secretKeyRef: SecretKeySelector? = nil
    ) {
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
        self.configMapKeyRef = configMapKeyRef
        self.secretKeyRef = secretKeyRef
    }
}

/// A field of the pod (downward API), such as "metadata.name".
public struct ObjectFieldSelector: Codable, Hashable, Sendable {
    public var apiVersion: String?
    public var fieldPath: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        apiVersion: String? = nil,
        fieldPath: String
    ) {
        self.apiVersion = apiVersion
        self.fieldPath = fieldPath
    }
}

/// A resource of a container (downward API), such as "limits.memory".
public struct ResourceFieldSelector: Codable, Hashable, Sendable {
    public var containerName: String?
    public var resource: String
    public var divisor: Quantity?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        containerName: String? = nil,
        resource: String,
        divisor: Quantity? = nil
    ) {
        self.containerName = containerName
        self.resource = resource
        self.divisor = divisor
    }
}

/// One key of a ConfigMap.
public struct ConfigMapKeySelector: Codable, Hashable, Sendable {
    public var name: String?
    public var key: String
    public var optional: Bool?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String? = nil,
        key: String,
        optional: Bool? = nil
    ) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

/// One key of a Secret.
public struct SecretKeySelector: Codable, Hashable, Sendable {
    public var name: String?
    public var key: String
    public var optional: Bool?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String? = nil,
        key: String,
        optional: Bool? = nil
    ) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

/// Imports every key of a ConfigMap or Secret as environment variables.
public struct EnvFromSource: Codable, Hashable, Sendable {
    public var prefix: String?
    public var configMapRef: ConfigMapEnvSource?
    public var secretRef: SecretEnvSource?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        prefix: String? = nil,
        configMapRef: ConfigMapEnvSource? = nil,
        secretRef: SecretEnvSource? = nil
    ) {
        self.prefix = prefix
        self.configMapRef = configMapRef
        self.secretRef = secretRef
    }
}

/// The ConfigMap of an `envFrom` entry.
public struct ConfigMapEnvSource: Codable, Hashable, Sendable {
    public var name: String?
    public var optional: Bool?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil,
        optional: Bool? = nil
    ) {
        self.name = name
        self.optional = optional
    }
}

/// The Secret of an `envFrom` entry.
public struct SecretEnvSource: Codable, Hashable, Sendable {
    public var name: String?
    public var optional: Bool?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        name: String? = nil,
        optional: Bool? = nil
    ) {
        self.name = name
        self.optional = optional
    }
}

/// Compute resources: requests drive scheduling, limits are enforced by cgroups.
public struct ResourceRequirements: Codable, Hashable, Sendable {
    public var limits: [String: Quantity]?
    public var requests: [String: Quantity]?
    public var claims: [JSONValue]?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        limits: [String: Quantity]? = nil,
        requests: [String: Quantity]? = nil,
        claims: [JSONValue]? = nil
    ) {
        self.limits = limits
        self.requests = requests
        self.claims = claims
    }
}

/// Mounts a pod volume into the container.
public struct VolumeMount: Codable, Hashable, Sendable {
    public var name: String
    public var readOnly: Bool?
    public var recursiveReadOnly: String?
    public var mountPath: String
    public var subPath: String?
    /// "None", "HostToContainer" or "Bidirectional".
    public var mountPropagation: String?
    public var subPathExpr: String?

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        readOnly: Bool? = nil,
        recursiveReadOnly: String? = nil,
        mountPath: String,
        subPath: String? = nil,
        mountPropagation: String? = nil,
        subPathExpr: String? = nil
    ) {
        self.name = name
        self.readOnly = readOnly
        self.recursiveReadOnly = recursiveReadOnly
        self.mountPath = mountPath
        self.subPath = subPath
        self.mountPropagation = mountPropagation
        self.subPathExpr = subPathExpr
    }
}

/// Exposes a raw block volume as a device node.
public struct VolumeDevice: Codable, Hashable, Sendable {
    public var name: String
    public var devicePath: String

    /// Memberwise initializer; optional fields default to unset.
    public init(
        name: String,
        devicePath: String
    ) {
        self.name = name
        self.devicePath = devicePath
    }
}

/// Hooks run after a container starts and before it is stopped.
public struct Lifecycle: Codable, Hashable, Sendable {
    public var postStart: LifecycleHandler?
    public var preStop: LifecycleHandler?
    public var stopSignal: String?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        postStart: LifecycleHandler? = nil,
        preStop: LifecycleHandler? = nil,
        stopSignal: String? = nil
    ) {
        self.postStart = postStart
        self.preStop = preStop
        self.stopSignal = stopSignal
    }
}

/// One lifecycle hook action (exactly one of its fields).
public struct LifecycleHandler: Codable, Hashable, Sendable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var sleep: SleepAction?

    /// Memberwise initializer; every field defaults to unset.
    public init(
        exec: ExecAction? = nil,
        httpGet: HTTPGetAction? = nil,
        tcpSocket: TCPSocketAction? = nil,
        sleep: SleepAction? = nil
    ) {
        self.exec = exec
        self.httpGet = httpGet
        self.tcpSocket = tcpSocket
        self.sleep = sleep
    }
}

/// Sleeps before the container is stopped.
public struct SleepAction: Codable, Hashable, Sendable {
    public var seconds: Int64

    /// Memberwise initializer; optional fields default to unset.
    public init(
        seconds: Int64
    ) {
        self.seconds = seconds
    }
}
