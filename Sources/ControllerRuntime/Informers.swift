import APIMachinery
import Logging
import Synchronization

/// The shared informers of one controller manager: one per resource, made on first use.
package final class Informers: Sendable {
    private let client: any ResourceClient
    private let logger: Logger
    private let made = Mutex<[ResourceRef: Informer]>([:])

    package init(client: any ResourceClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The informer of `ref`; controllers ask for theirs while they are constructed.
    package func informer(_ ref: ResourceRef) -> Informer {
        made.withLock { made in
            if let existing = made[ref] { return existing }
            let informer = Informer(ref: ref, client: client, logger: logger)
            made[ref] = informer
            return informer
        }
    }

    package var all: [Informer] { made.withLock { Array($0.values) } }
}
