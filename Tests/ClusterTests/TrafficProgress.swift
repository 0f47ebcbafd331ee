/// Requests a test's background traffic loop has made: the test starts the change under test
/// once the loop runs and ends the loop a number of requests after it, instead of fixed sleeps
/// and windows that a loaded machine may not honour.
actor TrafficProgress {
    private(set) var requests = 0
    /// Set by the test to end the loop after its current request (not Task cancellation,
    /// which could cut a request short and count it as failed).
    private(set) var stopped = false

    func count() { requests += 1 }

    func stop() { stopped = true }
}
