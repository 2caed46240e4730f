import Foundation

/// What a finished child process left: its exit status and everything it wrote.
public struct ProcessOutput: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `executable` with `arguments` (and `environment`, when given, as its whole environment) to the end.
/// Standard error is read on another thread while standard output is read here, so a child that fills one pipe
/// never waits forever on the other.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws
    -> ProcessOutput
{
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    final class Collected: @unchecked Sendable { var data = Data() }  // written by one thread, read after `wait`
    let errors = Collected()
    let reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                         stderr: String(decoding: errors.data, as: UTF8.self))
}

/// Runs a program found on `PATH` (through `/usr/bin/env`).
public func runProcess(_ command: [String], environment: [String: String]? = nil) throws -> ProcessOutput {
    try runProcess(URL(fileURLWithPath: "/usr/bin/env"), command, environment: environment)
}
