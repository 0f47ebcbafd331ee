import Agent
import ArgumentParser
import Foundation

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Show this node's conditions (the Conditions of `kubectl describe node`)."
    )

    @OptionGroup var options: RuntimeOptions

    func run() throws {
        let store = NodeStatusStore(dataDirectory: options.dataDir)
        var rows = [["TYPE", "STATUS", "LASTTRANSITIONTIME", "REASON", "MESSAGE"]]
        for condition in store.all() {
            rows.append([condition.type, condition.status, condition.lastTransitionTime?.description ?? "",
                         condition.reason ?? "", condition.message ?? ""])
        }
        printTable(rows)
    }
}
