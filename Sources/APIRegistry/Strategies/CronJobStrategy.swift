import APIMachinery
import Foundation
import KubeAPI

/// CronJobs (batch/v1): `SetDefaults_CronJob` and `ValidateCronJobCreate` /
/// `ValidateCronJobUpdate` (k8s.io/kubernetes/pkg/apis/batch/validation) with their messages:
/// the schedule read by robfig/cron's rules (`CronSchedule`), `timeZone` an IANA zone, the
/// job template validated as a Job's spec. Status is kept from the stored object on update.
struct CronJobStrategy: ResourceStrategy {
    /// A CronJob's name plus the 11-character suffix of its Jobs must fit in 63 characters.
    static let maxNameLength = 52

    func prepareForCreate(_ object: inout KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = nil
        return try prepare(&object, old: nil, context: context)
    }

    func prepareForUpdate(_ object: inout KubeObject, old: KubeObject, context: StrategyContext) async throws(APIError) -> [String] {
        object.fields["status"] = old.fields["status"]
        return try prepare(&object, old: old, context: context)
    }

    private func prepare(_ object: inout KubeObject, old: KubeObject?, context: StrategyContext) throws(APIError) -> [String] {
        // SetDefaults_CronJob.
        if object.value(at: ["spec", "concurrencyPolicy"]) == nil { object.set(.string("Allow"), at: ["spec", "concurrencyPolicy"]) }
        if object.value(at: ["spec", "suspend"]) == nil { object.set(.bool(false), at: ["spec", "suspend"]) }
        if object.value(at: ["spec", "successfulJobsHistoryLimit"]) == nil { object.set(.int(3), at: ["spec", "successfulJobsHistoryLimit"]) }
        if object.value(at: ["spec", "failedJobsHistoryLimit"]) == nil { object.set(.int(1), at: ["spec", "failedJobsHistoryLimit"]) }

        var errors: [ValidationError] = []
        let name = object.name ?? ""
        if old == nil, name.count > Self.maxNameLength {
            errors.append(ValidationError(type: .invalid, field: "metadata.name", badValue: .string(name),
                                          detail: "must be no more than \(Self.maxNameLength) characters"))
        }
        let timeZone = object.value(at: ["spec", "timeZone"])
        let schedule = object.string(at: ["spec", "schedule"]) ?? ""
        if schedule.isEmpty {
            errors.append(ValidationError(type: .required, field: "spec.schedule"))
        } else {
            // TZ in the schedule stays allowed only on objects that already had it.
            let allowTZ = old?.string(at: ["spec", "schedule"])?.contains("TZ") == true
            errors += Self.validateSchedule(schedule, allowTZInSchedule: allowTZ, hasTimeZone: timeZone != nil && timeZone != .null)
        }
        if let timeZone, timeZone != .null {
            errors += Self.validateTimeZone(timeZone)
        }
        let policy = object.string(at: ["spec", "concurrencyPolicy"]) ?? ""
        if !["Allow", "Forbid", "Replace"].contains(policy) {
            errors.append(ValidationError(type: .notSupported, field: "spec.concurrencyPolicy", badValue: .string(policy),
                                          detail: "supported values: \"Allow\", \"Forbid\", \"Replace\""))
        }
        for key in ["startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
            guard let value = object.value(at: ["spec", key]), value != .null else { continue }
            if let number = value.intValue, number < 0 {
                errors.append(ValidationError(type: .invalid, field: "spec.\(key)", badValue: .int(number), detail: "must be greater than or equal to 0"))
            }
        }
        if object.value(at: ["spec", "jobTemplate", "spec"]) == nil {
            errors.append(ValidationError(type: .required, field: "spec.jobTemplate.spec"))
        }
        // The CronJob's own fields first; its job template once they are right.
        guard errors.isEmpty else { throw APIError.invalid(kind: "CronJob", group: "batch", name: name, errors: errors) }
        return try JobStrategy.prepare(&object, path: "spec.jobTemplate.spec.", at: ["spec", "jobTemplate", "spec"], kind: "CronJob",
                                       name: name, context: context, generatedSelector: false, defaults: false)
    }

    /// `validateScheduleFormat`.
    static func validateSchedule(_ schedule: String, allowTZInSchedule: Bool, hasTimeZone: Bool) -> [ValidationError] {
        var errors: [ValidationError] = []
        do {
            _ = try CronSchedule(parsing: schedule)
        } catch {
            errors.append(ValidationError(type: .invalid, field: "spec.schedule", badValue: .string(schedule), detail: error.message))
        }
        if schedule.contains("TZ") {
            if !allowTZInSchedule {
                errors.append(ValidationError(type: .invalid, field: "spec.schedule", badValue: .string(schedule),
                                              detail: "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
            } else if hasTimeZone {
                errors.append(ValidationError(type: .invalid, field: "spec.schedule", badValue: .string(schedule),
                                              detail: "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
            }
        }
        return errors
    }

    /// `validateTimeZone`: a zone of the IANA database, never "Local".
    static func validateTimeZone(_ value: JSONValue) -> [ValidationError] {
        guard let zone = value.stringValue else {
            return [ValidationError(type: .invalid, field: "spec.timeZone", badValue: JobStrategy.badValue(value), detail: "must be a string")]
        }
        if zone.isEmpty {
            return [ValidationError(type: .invalid, field: "spec.timeZone", badValue: .string(zone), detail: "timeZone must be nil or non-empty string")]
        }
        if zone.caseInsensitiveCompare("Local") == .orderedSame {
            return [ValidationError(type: .invalid, field: "spec.timeZone", badValue: .string(zone),
                                    detail: "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")]
        }
        if TimeZone(identifier: zone) == nil || zone.contains(" ") {
            return [ValidationError(type: .invalid, field: "spec.timeZone", badValue: .string(zone), detail: "unknown time zone \(zone)")]
        }
        return []
    }
}
