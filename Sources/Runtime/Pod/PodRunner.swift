import Foundation
import Glibc
import KubeAPI

/// Runs a pod once, start to finish, without restarts: init containers in order (each must
/// exit 0), then every app container together, until all have exited or the task is
/// cancelled (then they are stopped gracefully). Everything is released at the end.
/// This is `swiftlet run`; the agent's pod workers (restart policy, back-off) come later.
public struct PodRunner: Sendable {
    public let runtime: PodRuntime

    public init(runtime: PodRuntime) {
        self.runtime = runtime
    }

    public struct Result: Sendable {
        /// Exits by container name, init containers included.
        public var exits: [String: ContainerExit] = [:]
        /// "Succeeded" when every app container exited 0, else "Failed" (Kubernetes' phase
        /// for a pod that will not restart).
        public var phase: String = "Succeeded"
    }

    /// `output(containerName)` gives the fd the container's stdout and stderr go to.
    public func run(_ pod: Pod, output: @Sendable (String) throws -> Int32) async throws -> Result {
        let sandbox = try runtime.createSandbox(for: pod)
        var started: [RunningContainer] = []
        var result = Result()
        let grace = pod.spec.terminationGracePeriodSeconds ?? 30
        do {
            for container in pod.spec.initContainers ?? [] {
                let running = try start(container, sandbox: sandbox, output: output)
                started.append(running)
                let exit = await withTaskCancellationHandler {
                    await running.wait()
                } onCancel: {
                    running.signal(SIGKILL)
                }
                result.exits[container.name] = exit
                try Task.checkCancellation()
                if exit.exitCode != 0 {
                    result.phase = "Failed"
                    await cleanup(started, sandbox)
                    return result
                }
            }
            var apps: [RunningContainer] = []
            for container in pod.spec.containers {
                let running = try start(container, sandbox: sandbox, output: output)
                started.append(running)
                apps.append(running)
            }
            let runtime = self.runtime
            let running = apps
            let exits = await withTaskCancellationHandler {
                await withTaskGroup(of: (String, ContainerExit).self) { group in
                    for app in running { group.addTask { (app.name, await app.wait()) } }
                    var collected: [(String, ContainerExit)] = []
                    for await exit in group { collected.append(exit) }
                    return collected
                }
            } onCancel: {
                Task { for app in running { await runtime.stop(app, gracePeriod: grace) } }
            }
            for (name, exit) in exits {
                result.exits[name] = exit
                if exit.exitCode != 0 { result.phase = "Failed" }
            }
        } catch {
            for container in started { await runtime.stop(container, gracePeriod: 0) }
            await cleanup(started, sandbox)
            throw error
        }
        await cleanup(started, sandbox)
        return result
    }

    private func start(_ container: Container, sandbox: RunningSandbox,
                       output: @Sendable (String) throws -> Int32) throws -> RunningContainer {
        let fd = try output(container.name)
        defer { close(fd) }
        return try runtime.startContainer(container, in: sandbox, output: .fds(stdout: fd, stderr: fd))
    }

    private func cleanup(_ containers: [RunningContainer], _ sandbox: RunningSandbox) async {
        for container in containers { await runtime.removeContainer(container) }
        runtime.removeSandbox(sandbox)
    }
}
