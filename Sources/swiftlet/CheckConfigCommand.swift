import ArgumentParser
import Runtime

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check that this host's kernel has what swiftlet needs.",
        discussion: "Exits non-zero when something required is missing; warnings do not fail."
    )

    func run() throws {
        let items = HostCheck().run()
        var group = ""
        for item in items {
            if item.group != group {
                group = item.group
                print("\n\(group):")
            }
            let mark: String
            switch item.status {
            case .info:
                print("- \(item.name): \(item.detail)")
                continue
            case .ok: mark = "enabled"
            case .warning: mark = "warning"
            case .missing: mark = "MISSING"
            }
            print("- \(item.name): \(mark)\(item.detail.isEmpty ? "" : " (\(item.detail))")")
        }
        let missing = items.filter { $0.status == .missing }.count
        let warnings = items.filter { $0.status == .warning }.count
        print("\nSTATUS: \(missing == 0 ? "pass" : "fail") (\(missing) missing, \(warnings) warnings)")
        if missing > 0 { throw ExitCode(1) }
    }
}
