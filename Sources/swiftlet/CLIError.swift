/// An error about the user's input that is not a command-line syntax problem: ArgumentParser
/// prints it as `Error: ...` without the usage banner, and exits 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
