import Foundation
import Logging
import Runtime
import ServiceSupport

/// What `swiftlet server` and `swiftlet agent` tell systemd as `Type=notify` services:
/// `READY=1` once they really serve (the agent's healthz answers 200, which it does once the
/// agent runs, after joining and setting up the node; the server's API listens), `STOPPING=1`
/// when a signal asks them to stop, and a `STATUS=` line for `systemctl status`. Outside
/// systemd ($NOTIFY_SOCKET unset) nothing is sent.
struct ServiceNotifier: Sendable {
    let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
    let logger = Logger(label: "swiftlet.systemd")

    var isActive: Bool { notifier.socketPath != nil }

    func send(_ state: String) {
        do {
            try notifier.notify(state)
        } catch {
            logger.warning("cannot notify systemd: \(error)")
        }
    }

    func stopping() {
        send("STOPPING=1\nSTATUS=stopping (pods keep running)")
    }

    /// Polls healthz every half second until it answers 200, then sends READY=1 with `status`.
    /// Returns when notified or cancelled; does nothing outside systemd.
    func readyWhenHealthy(address: String, port: UInt16, status: String) async {
        guard isActive else { return }
        if port != 0 {
            while !Task.isCancelled {
                let code = await BlockingCall.run { HealthzProbe.status(address: address, port: port) }
                if code == 200 { break }
                try? await Task.sleep(for: .milliseconds(500))
            }
            if Task.isCancelled { return }
        }
        send("READY=1\nSTATUS=\(status)")
        logger.info("told systemd the service is ready")
    }
}
