@testable import APIMachinery
@testable import APIRegistry
import APITestSupport
import Foundation
import KubeAPI
import Testing

/// batch/v1 CronJob defaults and validation: the schedule (robfig/cron's rules), time zones,
/// policies and limits, with Kubernetes' messages.
@Suite struct CronJobValidationTests {
    static func cronJobJSON(_ name: String = "nightly", schedule: String = "0 3 * * *", spec: String = "") -> String {
        """
        {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"\(name)"},
         "spec":{"schedule":"\(schedule)",\(spec)"jobTemplate":{"spec":{"template":{
           "spec":{"restartPolicy":"OnFailure","containers":[{"name":"c","image":"busybox"}]}}}}}}
        """
    }

    private static func object(_ text: String) throws -> KubeObject {
        guard case .object(let fields) = try JSONParser.parse(Array(text.utf8)) else { throw TestFailure("not an object: \(text)") }
        return KubeObject(fields: fields)
    }

    private func createError(_ text: String) async throws -> String? {
        try await withTestAPI { api in
            do {
                _ = try await api.client.create(.cronJobs, namespace: "default", Self.object(text))
                return nil
            } catch let error as APIError {
                #expect(error.code == 422)
                return error.message
            }
        }
    }

    @Test func defaultsThePolicies() async throws {
        try await withTestAPI { api in
            let cronJob = try await api.client.create(.cronJobs, namespace: "default", Self.object(Self.cronJobJSON()))
            #expect(cronJob.string(at: ["spec", "concurrencyPolicy"]) == "Allow")
            #expect(cronJob.value(at: ["spec", "suspend"])?.boolValue == false)
            #expect(cronJob.value(at: ["spec", "successfulJobsHistoryLimit"])?.intValue == 3)
            #expect(cronJob.value(at: ["spec", "failedJobsHistoryLimit"])?.intValue == 1)
            // The job template is not defaulted as a Job is (SetDefaults_Job takes a Job).
            #expect(cronJob.value(at: ["spec", "jobTemplate", "spec", "completions"]) == nil)
            #expect(cronJob.value(at: ["spec", "jobTemplate", "spec", "selector"]) == nil)
        }
    }

    @Test func rejectsBadSchedulesZonesAndPolicies() async throws {
        let fields = try await createError(Self.cronJobJSON(schedule: "0 3 * *"))
        #expect(fields?.contains(#"spec.schedule: Invalid value: "0 3 * *": expected exactly 5 fields, found 4: [0 3 * *]"#) == true, "\(fields ?? "created")")
        let range = try await createError(Self.cronJobJSON(schedule: "61 * * * *"))
        #expect(range?.contains("end of range (61) above maximum (59): 61") == true, "\(range ?? "created")")
        let word = try await createError(Self.cronJobJSON(schedule: "often"))
        #expect(word?.contains(#"spec.schedule: Invalid value: "often": expected exactly 5 fields, found 1: [often]"#) == true, "\(word ?? "created")")
        let empty = try await createError(Self.cronJobJSON(schedule: ""))
        #expect(empty?.contains("spec.schedule: Required value") == true, "\(empty ?? "created")")
        let tz = try await createError(Self.cronJobJSON(schedule: "CRON_TZ=UTC 0 3 * * *"))
        #expect(tz?.contains("cannot use TZ or CRON_TZ in schedule, use timeZone field instead") == true, "\(tz ?? "created")")
        let zone = try await createError(Self.cronJobJSON(spec: #""timeZone":"Mars/Olympus","#))
        #expect(zone?.contains(#"spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus"#) == true, "\(zone ?? "created")")
        let local = try await createError(Self.cronJobJSON(spec: #""timeZone":"Local","#))
        #expect(local?.contains("timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones") == true)
        let policy = try await createError(Self.cronJobJSON(spec: #""concurrencyPolicy":"Sometimes","#))
        #expect(policy?.contains(#"spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace""#) == true)
        let limits = try await createError(Self.cronJobJSON(spec: #""successfulJobsHistoryLimit":-1,"startingDeadlineSeconds":-5,"#))
        #expect(limits?.contains("spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0") == true)
        #expect(limits?.contains("spec.startingDeadlineSeconds: Invalid value: -5: must be greater than or equal to 0") == true)
        let long = try await createError(Self.cronJobJSON(String(repeating: "a", count: 53)))
        #expect(long?.contains("must be no more than 52 characters") == true, "\(long ?? "created")")
        let restart = try await createError(Self.cronJobJSON().replacingOccurrences(of: "OnFailure", with: "Always"))
        #expect(restart?.contains(#"spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always""#) == true, "\(restart ?? "created")")
        #expect(try await createError(Self.cronJobJSON(schedule: "@hourly", spec: #""timeZone":"Europe/Berlin","#)) == nil)
    }
}
