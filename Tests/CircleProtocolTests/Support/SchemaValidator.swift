import Foundation

/// Runs Tests/schema/validate.py over JSON lines, the way CI and developers do.
enum SchemaValidator {
    struct Outcome {
        var exitCode: Int32
        var output: String
    }

    /// The package root: the nearest directory above this file that holds Package.swift.
    static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let parent = directory.deletingLastPathComponent()
            precondition(parent != directory, "Package.swift not found above \(#filePath)")
            directory = parent
        }
        return directory
    }()

    /// Validates `lines` (one JSON message each) in `direction` (`server` or `client`).
    static func run(direction: String, lines: [String]) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("circle-schema-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", packageRoot.appendingPathComponent("Tests/schema/validate.py").path, "--direction", direction,
            file.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(exitCode: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
