import Foundation
import KubeAPI
import Logging
import Synchronization

/// The node's half of the local-path provisioner (rancher/local-path-provisioner runs a helper
/// pod for each): the directories of local-path volumes that this agent made when it first
/// mounted them are removed once their PersistentVolume is gone (the server deletes it when
/// its claim goes and the reclaim policy is Delete: the provisioner's teardown, `rm -rf`).
///
/// What it removes is kept on disk (`<state>/local-volumes.json`: path -> volume name) and is
/// only what it made itself, so a hand-made volume's data is never touched; a path is removed
/// only when its last element is `<volume>_...` (the provisioner's pattern), it is a directory
/// and not a symlink, and the API answers NotFound for the volume. A volume that is Released
/// but still there (Retain), or an API that cannot be asked, keeps the directory.
final class LocalVolumeJanitor: Sendable {
    private let file: String
    private let logger: Logger
    private let made: Mutex<[String: String]>

    init(stateRoot: String, logger: Logger) {
        file = stateRoot + "/local-volumes.json"
        self.logger = logger
        let stored = FileManager.default.contents(atPath: file).flatMap { try? JSONDecoder().decode([String: String].self, from: $0) }
        made = Mutex(stored ?? [:])
    }

    /// Notes that the agent is about to make `path` for `volume` (it did not exist).
    func record(path: String, volume: String) {
        let snapshot = made.withLock { made -> [String: String] in
            made[path] = volume
            return made
        }
        save(snapshot)
    }

    /// What is recorded (path -> volume).
    var recorded: [String: String] { made.withLock { $0 } }

    /// Removes the directories whose volume the API no longer has.
    func sweep(api: any PodAPI) async {
        for (path, volume) in recorded.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try await api.getPersistentVolume(name: volume)
                continue  // still there (bound, or released and retained)
            } catch PodAPIError.notFound {
                remove(path, volume: volume)
            } catch {
                continue  // forbidden while released, or unreachable: ask again later
            }
        }
    }

    func run(api: any PodAPI, every period: Duration) async {
        while !Task.isCancelled {
            await sweep(api: api)
            do { try await Task.sleep(for: period) } catch { return }
        }
    }

    private func remove(_ path: String, volume: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { forget(path) }  // gone already
            return
        }
        let name = (path as NSString).lastPathComponent
        guard path.hasPrefix("/"), !path.split(separator: "/").contains(".."), name.hasPrefix(volume + "_"),
              (info.st_mode & S_IFMT) == S_IFDIR else {
            logger.warning("local volume directory left in place: not the provisioner's", metadata: ["path": "\(path)", "volume": "\(volume)"])
            forget(path)
            return
        }
        do {
            try FileManager.default.removeItem(atPath: path)
            logger.info("local volume removed", metadata: ["path": "\(path)", "volume": "\(volume)"])
            forget(path)
        } catch {
            logger.warning("local volume not removed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    private func forget(_ path: String) {
        let snapshot = made.withLock { made -> [String: String] in
            made[path] = nil
            return made
        }
        save(snapshot)
    }

    private func save(_ entries: [String: String]) {
        do {
            let data = try JSONEncoder().encode(entries)
            try data.write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            logger.warning("local volume list not saved", metadata: ["file": "\(file)", "error": "\(error)"])
        }
    }
}
