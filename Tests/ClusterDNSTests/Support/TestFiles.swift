import Glibc

/// Files for tests, without Foundation.
enum TestFiles {
    static func write(_ path: String, _ text: String) throws {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        mkdir(directory, 0o755)
        guard let file = fopen(path, "w") else { throw HarnessError(description: "cannot write \(path)") }
        fputs(text, file)
        fclose(file)
    }

    static func remove(_ directory: String) {
        _ = system("rm -rf '\(directory)'")
    }
}
