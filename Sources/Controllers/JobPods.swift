import ControllerRuntime
import Scheduler
import APIMachinery
import Foundation
import KubeAPI

/// What the Job controller reads from and writes into pods: the pod made from a Job's
/// template (with the completion index of an Indexed Job), the index a pod carries, when a
/// finished pod finished, and the `completedIndexes` notation.
/// https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/job/indexed_job_utils.go
enum JobPods {
    /// `batch.kubernetes.io/job-completion-index`: annotation (read by the env variable's
    /// downward API reference) and label (since 1.28, PodIndexLabel) of an Indexed Job's pod.
    static let completionIndexKey = "batch.kubernetes.io/job-completion-index"
    /// The env variable every container of an Indexed Job's pod gets.
    static let completionIndexEnv = "JOB_COMPLETION_INDEX"

    static func isFinished(_ pod: KubeObject) -> Bool {
        let phase = pod.string(at: ["status", "phase"])
        return phase == "Succeeded" || phase == "Failed"
    }

    /// The completion index of a pod, from its annotation; nil when absent or malformed.
    static func index(of pod: KubeObject) -> Int? {
        guard let text = pod.annotations[completionIndexKey], let index = Int(text), index >= 0,
              String(index) == text else { return nil }
        return index
    }

    /// When a finished pod finished: the latest `terminated.finishedAt` of its containers,
    /// else its creation time (the upstream `getFinishedTime` falls back the same way).
    static func finishedAt(_ pod: KubeObject) -> Date {
        let statuses = (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? [])
            + (pod.value(at: ["status", "initContainerStatuses"])?.arrayValue ?? [])
        let times = statuses.compactMap { $0["state"]?["terminated"]?["finishedAt"]?.stringValue.flatMap(Time.init(rfc3339:))?.date }
        return times.max() ?? pod.createdAt
    }

    /// Container restarts of a pod (containers and init containers), for `backoffLimit` with
    /// `restartPolicy: OnFailure` (`pastBackoffLimitOnFailure`).
    static func restartCount(_ pod: KubeObject) -> Int64 {
        let statuses = (pod.value(at: ["status", "containerStatuses"])?.arrayValue ?? [])
            + (pod.value(at: ["status", "initContainerStatuses"])?.arrayValue ?? [])
        return statuses.reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
    }

    /// The pod the Job controller creates: `controller.GetPodFromTemplate` plus, for an
    /// Indexed Job, the index as annotation, label, env variable and hostname
    /// (`addCompletionIndexAnnotation`, `addCompletionIndexEnvVariables`, `podGenerateNameWithIndex`).
    static func fromTemplate(of job: KubeObject, index: Int?) -> KubeObject {
        var pod = ReplicaSetPods.fromTemplate(of: job)
        guard let index else { return pod }
        let name = job.name ?? ""
        let text = JSONValue.string(String(index))
        var annotations = pod.metadata["annotations"]?.objectValue ?? [:]
        annotations[completionIndexKey] = text
        pod.set(.object(annotations), at: ["metadata", "annotations"])
        var labels = pod.metadata["labels"]?.objectValue ?? [:]
        labels[completionIndexKey] = text
        pod.set(.object(labels), at: ["metadata", "labels"])
        // `<job>-<index>-`, shortened as Kubernetes does when the name is long.
        var prefix = "\(name)-\(index)-"
        if prefix.count > 58 { prefix = String(name.prefix(max(0, 58 - "-\(index)-".count))) + "-\(index)-" }
        pod.set(.string(prefix), at: ["metadata", "generateName"])
        if (pod.string(at: ["spec", "hostname"]) ?? "").isEmpty {
            pod.set(.string(String("\(name)-\(index)".prefix(63))), at: ["spec", "hostname"])
        }
        let env: JSONValue = .object([
            "name": .string(completionIndexEnv),
            "valueFrom": .object(["fieldRef": .object([
                "apiVersion": .string("v1"),
                "fieldPath": .string("metadata.annotations['\(completionIndexKey)']"),
            ])]),
        ])
        for list in ["initContainers", "containers"] {
            guard let containers = pod.value(at: ["spec", list])?.arrayValue else { continue }
            pod.set(.array(containers.map { container in
                guard case .object(var fields) = container else { return container }
                var variables = fields["env"]?.arrayValue ?? []
                if !variables.contains(where: { $0["name"]?.stringValue == completionIndexEnv }) { variables.append(env) }
                fields["env"] = .array(variables)
                return .object(fields)
            }), at: ["spec", list])
        }
        return pod
    }

    /// `completedIndexes`: sorted indexes as ranges, "1,3-5,7".
    static func formatIndexes(_ indexes: Set<Int>) -> String {
        var parts: [String] = []
        var sorted = indexes.sorted()[...]
        while let first = sorted.popFirst() {
            var last = first
            while let next = sorted.first, next == last + 1 {
                last = next
                sorted = sorted.dropFirst()
            }
            parts.append(first == last ? "\(first)" : "\(first)-\(last)")
        }
        return parts.joined(separator: ",")
    }
}
