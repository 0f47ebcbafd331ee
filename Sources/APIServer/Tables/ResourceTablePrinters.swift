import APIMachinery
import APIRegistry
import KubeAPI

/// Table columns of the other built-in resources, as Kubernetes' printers define them;
/// anything without a printer gets the default NAME / CREATED AT table.
enum ResourceTablePrinters {
    static func printer(for resource: APIResource) -> TablePrinter {
        switch (resource.group, resource.name) {
        case ("", "namespaces"): return namespaces
        case ("", "services"): return services
        case ("", "endpoints"): return endpoints
        case ("", "events"): return events
        // kube-apiserver prints both versions with the one printer of the internal type.
        case ("events.k8s.io", "events"):
            return TablePrinter(columns: events.columns, cells: { event, context in
                events.cells(EventsV1Conversion().toStored(event), context)
            })
        case ("", "configmaps"): return configMaps
        case ("", "secrets"): return secrets
        case ("", "serviceaccounts"): return serviceAccounts
        case ("apps", "deployments"): return deployments
        case ("apps", "replicasets"): return replicaSets
        case ("apps", "daemonsets"): return daemonSets
        case ("apps", "statefulsets"): return AppsTablePrinters.statefulSets
        case ("apps", "controllerrevisions"): return AppsTablePrinters.controllerRevisions
        case ("batch", "jobs"): return jobs
        case ("batch", "cronjobs"): return cronJobs
        case ("coordination.k8s.io", "leases"): return leases
        case ("discovery.k8s.io", "endpointslices"): return endpointSlices
        case ("networking.k8s.io", "ingresses"): return NetworkingTablePrinters.ingresses
        case ("networking.k8s.io", "ingressclasses"): return NetworkingTablePrinters.ingressClasses
        case ("", "resourcequotas"): return QuotaTablePrinters.resourceQuotas
        case ("policy", "poddisruptionbudgets"): return PolicyTablePrinters.podDisruptionBudgets
        case ("", "replicationcontrollers"): return CoreWorkloadTablePrinters.replicationControllers
        case ("", "podtemplates"): return CoreWorkloadTablePrinters.podTemplates
        case ("scheduling.k8s.io", "priorityclasses"): return SchedulingTablePrinters.priorityClasses
        case ("", "persistentvolumes"): return StorageTablePrinters.persistentVolumes
        case ("", "persistentvolumeclaims"): return StorageTablePrinters.persistentVolumeClaims
        case ("storage.k8s.io", "storageclasses"): return StorageTablePrinters.storageClasses
        default: return fallback
        }
    }

    /// `rest.NewDefaultTableConvertor`.
    static let fallback = TablePrinter(
        columns: [.name, TableColumn(name: "Created At", type: "date", description: TableColumn.ageDescription)],
        cells: { object, _ in [.string(object.name ?? ""), .string(object.creationTimestamp ?? "")] }
    )

    static let namespaces = TablePrinter(
        columns: [.name, TableColumn(name: "Status", type: "string", description: "The status of the namespace"), .age],
        cells: { object, context in
            [.string(object.name ?? ""), .string(object.string(at: ["status", "phase"]) ?? ""), .string(context.age(object.creationTimestamp))]
        }
    )

    static let services = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Type", type: "string", description: "type determines how the Service is exposed."),
            TableColumn(name: "Cluster-IP", type: "string", description: "clusterIP is the IP address of the service and is usually assigned randomly."),
            TableColumn(name: "External-IP", type: "string", description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            TableColumn(name: "Port(s)", type: "string", description: "The list of ports that are exposed by this service."),
            .age,
            TableColumn(name: "Selector", type: "string", description: "Route service traffic to pods with label keys and values matching this selector.", priority: 1),
        ],
        cells: { service, context in
            let spec = service.fields["spec"]
            let type = spec?["type"]?.stringValue ?? ""
            let clusterIP = spec?["clusterIPs"]?.arrayValue?.first?.stringValue ?? spec?["clusterIP"]?.stringValue ?? "<none>"
            let externalIPs = (spec?["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
            let external: String
            switch type {
            case "ClusterIP", "NodePort":
                external = externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
            case "LoadBalancer":
                let ingress = (service.value(at: ["status", "loadBalancer", "ingress"])?.arrayValue ?? [])
                    .compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }
                let all = Array(Set(ingress)).sorted() + externalIPs
                external = all.isEmpty ? "<pending>" : all.joined(separator: ",")
            case "ExternalName":
                external = spec?["externalName"]?.stringValue ?? ""
            default:
                external = "<unknown>"
            }
            let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
                let number = port["port"]?.intValue ?? 0
                let proto = port["protocol"]?.stringValue ?? "TCP"
                if let nodePort = port["nodePort"]?.intValue, nodePort > 0 {
                    return "\(number):\(nodePort)/\(proto)"
                }
                return "\(number)/\(proto)"
            }.joined(separator: ",")
            return [
                .string(service.name ?? ""), .string(type), .string(clusterIP.isEmpty ? "<none>" : clusterIP), .string(external),
                .string(ports.isEmpty ? "<none>" : ports), .string(context.age(service.creationTimestamp)),
                .string(TableConverter.formatLabels(spec?["selector"]?.objectValue)),
            ]
        }
    )

    static let endpoints = TablePrinter(
        columns: [.name, TableColumn(name: "Endpoints", type: "string", description: "The set of all endpoints is the union of all subsets."), .age],
        cells: { object, context in
            [.string(object.name ?? ""), .string(formatEndpoints(object.fields["subsets"])), .string(context.age(object.creationTimestamp))]
        }
    )

    /// `formatEndpoints`: up to three `ip:port`, then `+ N more...`.
    static func formatEndpoints(_ subsets: JSONValue?) -> String {
        let subsets = subsets?.arrayValue ?? []
        if subsets.isEmpty { return "<none>" }
        var list: [String] = []
        var count = 0
        var more = false
        for subset in subsets {
            let addresses = (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
            let ports = subset["ports"]?.arrayValue ?? []
            if ports.isEmpty {
                count += addresses.count
                for address in addresses {
                    if list.count == 3 { more = true; break }
                    list.append(address)
                }
                continue
            }
            for port in ports {
                count += addresses.count
                for address in addresses {
                    if list.count == 3 { more = true; break }
                    let number = port["port"]?.intValue ?? 0
                    list.append(address.contains(":") ? "[\(address)]:\(number)" : "\(address):\(number)")
                }
            }
        }
        let joined = list.joined(separator: ",")
        return more ? "\(joined) + \(count - 3) more..." : joined
    }

    static let endpointSlices = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "AddressType", type: "string", description: "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported:\n* IPv4: Represents an IPv4 Address.\n* IPv6: Represents an IPv6 Address.\n* FQDN: Represents a Fully Qualified Domain Name."),
            TableColumn(name: "Ports", type: "string", description: "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports."),
            TableColumn(name: "Endpoints", type: "string", description: "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."),
            .age,
        ],
        cells: { object, context in
            let ports = (object.fields["ports"]?.arrayValue ?? []).map { port in
                port["port"]?.intValue.map { String($0) } ?? port["name"]?.stringValue ?? "*"
            }
            let addresses = (object.fields["endpoints"]?.arrayValue ?? []).flatMap { endpoint in
                (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
            return [
                .string(object.name ?? ""), .string(object.fields["addressType"]?.stringValue ?? ""),
                .string(listWithMore(ports)), .string(listWithMore(addresses)), .string(context.age(object.creationTimestamp)),
            ]
        }
    )

    /// `listWithMoreString` of the EndpointSlice printer: up to three values, then `+ N more...`;
    /// `<unset>` when there are none.
    static func listWithMore(_ values: [String]) -> String {
        if values.count > 3 {
            return values.prefix(3).joined(separator: ",") + " + \(values.count - 3) more..."
        }
        return values.isEmpty ? "<unset>" : values.joined(separator: ",")
    }

    static let events = TablePrinter(
        columns: [
            TableColumn(name: "Last Seen", type: "string", description: "The time at which the most recent occurrence of this event was recorded."),
            TableColumn(name: "Type", type: "string", description: "Type of this event (Normal, Warning), new types could be added in the future"),
            TableColumn(name: "Reason", type: "string", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
            TableColumn(name: "Object", type: "string", description: "The object that this event is about."),
            TableColumn(name: "Subobject", type: "string", description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.", priority: 1),
            TableColumn(name: "Source", type: "string", description: "The component reporting this event. Should be a short machine understandable string.", priority: 1),
            TableColumn(name: "Message", type: "string", description: "A human-readable description of the status of this operation."),
            TableColumn(name: "First Seen", type: "string", description: "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", priority: 1),
            TableColumn(name: "Count", type: "string", description: "The number of times this event has occurred.", priority: 1),
            TableColumn(name: "Name", type: "string", format: "name", description: TableColumn.nameDescription, priority: 1),
        ],
        cells: { event, context in
            let first = event.fields["firstTimestamp"]?.stringValue.map { context.age($0) }
                ?? context.age(event.fields["eventTime"]?.stringValue)
            var last = event.fields["lastTimestamp"]?.stringValue.map { context.age($0) } ?? first
            var count = event.fields["count"]?.intValue ?? 0
            if let series = event.fields["series"] {
                last = context.age(series["lastObservedTime"]?.stringValue)
                count = series["count"]?.intValue ?? 0
            } else if count == 0 {
                count = 1
            }
            let involved = event.fields["involvedObject"]
            let kind = (involved?["kind"]?.stringValue ?? "").lowercased()
            let name = involved?["name"]?.stringValue ?? ""
            let component = event.value(at: ["source", "component"])?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                ?? event.fields["reportingComponent"]?.stringValue ?? ""
            let host = event.value(at: ["source", "host"])?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                ?? event.fields["reportingInstance"]?.stringValue ?? ""
            return [
                .string(last), .string(event.fields["type"]?.stringValue ?? ""), .string(event.fields["reason"]?.stringValue ?? ""),
                .string(name.isEmpty ? kind : "\(kind)/\(name)"), .string(involved?["fieldPath"]?.stringValue ?? ""),
                .string(host.isEmpty ? component : "\(component), \(host)"),
                .string((event.fields["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)),
                .string(first), .int(count), .string(event.name ?? ""),
            ]
        }
    )

    static let configMaps = TablePrinter(
        columns: [.name, TableColumn(name: "Data", type: "string", description: "Data contains the configuration data."), .age],
        cells: { object, context in
            let count = (object.fields["data"]?.objectValue?.count ?? 0) + (object.fields["binaryData"]?.objectValue?.count ?? 0)
            return [.string(object.name ?? ""), .int(Int64(count)), .string(context.age(object.creationTimestamp))]
        }
    )

    static let secrets = TablePrinter(
        columns: [
            .name, TableColumn(name: "Type", type: "string", description: "Used to facilitate programmatic handling of secret data."),
            TableColumn(name: "Data", type: "string", description: "Data contains the secret data."), .age,
        ],
        cells: { object, context in
            [.string(object.name ?? ""), .string(object.fields["type"]?.stringValue ?? ""),
             .int(Int64(object.fields["data"]?.objectValue?.count ?? 0)), .string(context.age(object.creationTimestamp))]
        }
    )

    static let serviceAccounts = TablePrinter(
        columns: [.name, TableColumn(name: "Secrets", type: "string", description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), .age],
        cells: { object, context in
            [.string(object.name ?? ""), .int(Int64(object.fields["secrets"]?.arrayValue?.count ?? 0)),
             .string(context.age(object.creationTimestamp))]
        }
    )

    static let workloadWideColumns = [
        TableColumn(name: "Containers", type: "string", description: "Names of each container in the template.", priority: 1),
        TableColumn(name: "Images", type: "string", description: "Images referenced by each container in the template.", priority: 1),
        TableColumn(name: "Selector", type: "string", description: "Label selector for pods.", priority: 1),
    ]

    static let deployments = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Ready", type: "string", description: "Number of the pod with ready state"),
            TableColumn(name: "Up-to-date", type: "string", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            TableColumn(name: "Available", type: "string", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
            .age,
        ] + workloadWideColumns,
        cells: { object, context in
            let status = object.fields["status"]
            let (names, images) = TableConverter.containerCells(object.value(at: ["spec", "template", "spec"]))
            let selector = object.value(at: ["spec", "selector"]).flatMap { try? LabelSelector(object: $0) }?.description ?? "<invalid>"
            return [
                .string(object.name ?? ""),
                .string("\(status?["readyReplicas"]?.intValue ?? 0)/\(object.value(at: ["spec", "replicas"])?.intValue ?? 0)"),
                TableConverter.int(status?["updatedReplicas"]), TableConverter.int(status?["availableReplicas"]),
                .string(context.age(object.creationTimestamp)), .string(names), .string(images), .string(selector),
            ]
        }
    )

    static let replicaSets = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Desired", type: "integer", description: "Replicas is the number of desired pods."),
            TableColumn(name: "Current", type: "integer", description: "Replicas is the most recently observed number of replicas."),
            TableColumn(name: "Ready", type: "integer", description: "The number of ready replicas for this replica set."),
            .age,
        ] + workloadWideColumns,
        cells: { object, context in
            TableConverter.replicaCells(object, context: context,
                                        selector: TableConverter.formatLabelSelector(object.value(at: ["spec", "selector"])))
        }
    )

    static let leases = TablePrinter(
        columns: [.name, TableColumn(name: "Holder", type: "string", description: "holderIdentity contains the identity of the holder of a current lease."), .age],
        cells: { object, context in
            [.string(object.name ?? ""), .string(object.string(at: ["spec", "holderIdentity"]) ?? ""),
             .string(context.age(object.creationTimestamp))]
        }
    )

    /// `printJob` of Kubernetes 1.32 (pkg/printers/internalversion/printers.go): STATUS from
    /// the conditions, COMPLETIONS as succeeded/completions (or "/1 of N" for a work queue),
    /// DURATION from startTime to completionTime (or now).
    static let jobs = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Status", type: "string", description: "Status of the job."),
            TableColumn(name: "Completions", type: "string", description: "The desired number of successfully finished pods the job should be run with."),
            TableColumn(name: "Duration", type: "string", description: "Time required to complete the job."),
            .age,
        ] + workloadWideColumns,
        cells: { object, context in
            let status = object.fields["status"]
            let conditions = status?["conditions"]?.arrayValue ?? []
            func has(_ type: String) -> Bool {
                conditions.contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
            }
            let state: String
            if has("Complete") { state = "Complete" }
            else if has("Failed") { state = "Failed" }
            else if object.deletionTimestamp != nil { state = "Terminating" }
            else if has("FailureTarget") { state = "FailureTarget" }
            else if has("SuccessCriteriaMet") { state = "SuccessCriteriaMet" }
            else if has("Suspended") { state = "Suspended" }
            else { state = "Running" }
            let succeeded = status?["succeeded"]?.intValue ?? 0
            let completions: String
            if let wanted = object.value(at: ["spec", "completions"])?.intValue {
                completions = "\(succeeded)/\(wanted)"
            } else {
                let parallelism = object.value(at: ["spec", "parallelism"])?.intValue ?? 0
                completions = parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1"
            }
            var duration = ""
            if let start = status?["startTime"]?.stringValue.flatMap(Time.init(rfc3339:)) {
                let end = status?["completionTime"]?.stringValue.flatMap(Time.init(rfc3339:))?.date ?? context.now
                duration = HumanDuration.format(seconds: end.timeIntervalSince(start.date))
            }
            let (names, images) = TableConverter.containerCells(object.value(at: ["spec", "template", "spec"]))
            return [
                .string(object.name ?? ""), .string(state), .string(completions), .string(duration),
                .string(context.age(object.creationTimestamp)), .string(names), .string(images),
                .string(TableConverter.formatLabelSelector(object.value(at: ["spec", "selector"]))),
            ]
        }
    )

    /// `printCronJob` of Kubernetes 1.32: SCHEDULE, TIMEZONE (`<none>` when unset), SUSPEND,
    /// ACTIVE (running Jobs) and LAST SCHEDULE (`<none>` before the first).
    static let cronJobs = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Schedule", type: "string", description: "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
            TableColumn(name: "Timezone", type: "string", description: "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"),
            TableColumn(name: "Suspend", type: "boolean", description: "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."),
            TableColumn(name: "Active", type: "integer", description: "A list of pointers to currently running jobs."),
            TableColumn(name: "Last Schedule", type: "string", description: "Information when was the last time the job was successfully scheduled."),
            .age,
        ] + workloadWideColumns,
        cells: { object, context in
            let lastSchedule = object.string(at: ["status", "lastScheduleTime"]).map { context.age($0) } ?? "<none>"
            let (names, images) = TableConverter.containerCells(object.value(at: ["spec", "jobTemplate", "spec", "template", "spec"]))
            let selector = object.value(at: ["spec", "jobTemplate", "spec", "selector"]).map { TableConverter.formatLabelSelector($0) } ?? "<none>"
            return [
                .string(object.name ?? ""), .string(object.string(at: ["spec", "schedule"]) ?? ""),
                .string(object.string(at: ["spec", "timeZone"]) ?? "<none>"),
                // printBoolPtr: the cell is the string True/False.
                .string(object.value(at: ["spec", "suspend"])?.boolValue == true ? "True" : "False"),
                .int(Int64(object.value(at: ["status", "active"])?.arrayValue?.count ?? 0)),
                .string(lastSchedule), .string(context.age(object.creationTimestamp)),
                .string(names), .string(images), .string(selector),
            ]
        }
    )

    /// `printDaemonSet`: the scheduling counts and the template's node selector.
    static let daemonSets = TablePrinter(
        columns: [
            .name,
            TableColumn(name: "Desired", type: "integer", description: "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
            TableColumn(name: "Current", type: "integer", description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"),
            TableColumn(name: "Ready", type: "integer", description: "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
            TableColumn(name: "Up-to-date", type: "integer", description: "The total number of nodes that are running updated daemon pod"),
            TableColumn(name: "Available", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
            TableColumn(name: "Node Selector", type: "string", description: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
            .age,
        ] + workloadWideColumns,
        cells: { object, context in
            let status = object.fields["status"]
            let nodeSelector = (object.value(at: ["spec", "template", "spec", "nodeSelector"])?.objectValue ?? [:])
                .compactMapValues(\.stringValue).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let (names, images) = TableConverter.containerCells(object.value(at: ["spec", "template", "spec"]))
            return [
                .string(object.name ?? ""), TableConverter.int(status?["desiredNumberScheduled"]),
                TableConverter.int(status?["currentNumberScheduled"]), TableConverter.int(status?["numberReady"]),
                TableConverter.int(status?["updatedNumberScheduled"]), TableConverter.int(status?["numberAvailable"]),
                .string(nodeSelector.isEmpty ? "<none>" : nodeSelector), .string(context.age(object.creationTimestamp)),
                .string(names), .string(images), .string(TableConverter.formatLabelSelector(object.value(at: ["spec", "selector"]))),
            ]
        }
    )
}
