import Foundation
@testable import KubeAPI
import Testing

/// The CronJob schedule parser (robfig/cron's ParseStandard rules and messages) and `next`.
@Suite struct CronScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func date(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    func next(_ spec: String, after: String, zone: TimeZone = utc) throws -> String? {
        let schedule = try CronSchedule(parsing: spec)
        guard let next = schedule.next(after: Self.date(after), in: zone) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = Self.utc
        return formatter.string(from: next)
    }

    @Test func nextActivationFollowsTheFields() throws {
        #expect(try next("*/15 * * * *", after: "2026-03-01T10:07:30Z") == "2026-03-01T10:15:00Z")
        #expect(try next("*/15 * * * *", after: "2026-03-01T10:15:00Z") == "2026-03-01T10:30:00Z", "strictly after")
        #expect(try next("0 9-17/4 * * MON-fri", after: "2026-03-06T18:00:00Z") == "2026-03-09T09:00:00Z") // Friday evening → Monday
        #expect(try next("30 2 29 feb *", after: "2026-01-01T00:00:00Z") == "2028-02-29T02:30:00Z")
        #expect(try next("@hourly", after: "2026-03-01T10:07:00Z") == "2026-03-01T11:00:00Z")
        #expect(try next("@daily", after: "2026-03-01T10:07:00Z") == "2026-03-02T00:00:00Z")
        #expect(try next("@weekly", after: "2026-03-02T10:00:00Z") == "2026-03-08T00:00:00Z") // the next Sunday
        #expect(try next("@monthly", after: "2026-03-02T10:00:00Z") == "2026-04-01T00:00:00Z")
        #expect(try next("@yearly", after: "2026-03-02T10:00:00Z") == "2027-01-01T00:00:00Z")
        #expect(try next("5 4 ? * *", after: "2026-03-02T10:00:00Z") == "2026-03-03T04:05:00Z")
        #expect(try next("0 0 31 2 *", after: "2026-01-01T00:00:00Z") == nil, "February 31 never comes")
    }

    /// Both day fields restricted: either may match (cron's rule); one of them `*`: both must.
    @Test func dayOfMonthAndDayOfWeekCombineAsCronDoes() throws {
        // 2026-03-13 is a Friday; the 15th a Sunday.
        #expect(try next("0 0 15 * FRI", after: "2026-03-12T00:00:00Z") == "2026-03-13T00:00:00Z")
        #expect(try next("0 0 15 * *", after: "2026-03-12T00:00:00Z") == "2026-03-15T00:00:00Z")
        #expect(try next("0 0 * * 0", after: "2026-03-12T00:00:00Z") == "2026-03-15T00:00:00Z")
        #expect(try next("0 0 */2 * FRI", after: "2026-03-12T00:00:00Z") == "2026-03-13T00:00:00Z", "a stepped field is no star")
    }

    @Test func timeZonesMoveTheWallClock() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        // 09:00 in Berlin in winter is 08:00 UTC.
        #expect(try next("0 9 * * *", after: "2026-01-10T00:00:00Z", zone: berlin) == "2026-01-10T08:00:00Z")
        let prefixed = try CronSchedule(parsing: "CRON_TZ=America/New_York 0 9 * * *")
        #expect(prefixed.timeZone?.identifier == "America/New_York")
        #expect(prefixed == (try CronSchedule(parsing: "0 9 * * *").withZone(prefixed.timeZone)))
    }

    @Test func refusesBadSchedulesWithRobfigsMessages() {
        func message(_ spec: String) -> String? {
            do {
                _ = try CronSchedule(parsing: spec)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message("") == "empty spec string")
        #expect(message("* * * *") == "expected exactly 5 fields, found 4: [* * * *]")
        #expect(message("0 0 * * * *") == "expected exactly 5 fields, found 6: [0 0 * * * *]")
        #expect(message("60 * * * *") == "end of range (60) above maximum (59): 60")
        #expect(message("* * 0 * *") == "beginning of range (0) below minimum (1): 0")
        #expect(message("5-2 * * * *") == "beginning of range (5) beyond end of range (2): 5-2")
        #expect(message("*/0 * * * *") == "step of range should be a positive number: */0")
        #expect(message("1-2-3 * * * *") == "too many hyphens: 1-2-3")
        #expect(message("*/2/3 * * * *") == "too many slashes: */2/3")
        #expect(message("x * * * *") == #"failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax"#)
        #expect(message("* * * * 7") == "end of range (7) above maximum (6): 7")
        #expect(message("* * * FOO *") == #"failed to parse int from FOO: strconv.Atoi: parsing "FOO": invalid syntax"#)
        #expect(message("@fortnightly") == "unrecognized descriptor: @fortnightly")
        #expect(message("@every 5m")?.contains("not supported") == true)
        #expect(message("CRON_TZ=Mars/Olympus 0 * * * *") == "provided bad location Mars/Olympus: unknown time zone Mars/Olympus")
        #expect(message("1,,2 * * * *") != nil, "an empty list item")
    }
}

extension CronSchedule {
    /// The same schedule read with a zone prefix, for comparing parses.
    fileprivate func withZone(_ zone: TimeZone?) -> CronSchedule {
        var copy = self
        copy.timeZone = zone
        return copy
    }
}
