import CircleTestSupport
import Foundation
@testable import CircleServer
import Testing

/// Every setting is declared once (``SettingKey``): its flag in `circle serve --help` and its row in
/// Docs/OPERATIONS.md name it, its environment variable and its default as the declaration does.
@Suite struct SettingsDeclaredOnceTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The default a setting shows, as `--check-config` shows it (`5.0` reads as `5`); nil when it has none.
    private func defaultValue(_ key: SettingKey) -> String? {
        let shown = key.describe(ServeSettings()).joined(separator: ", ")
        guard !shown.isEmpty else { return nil }
        return shown.hasSuffix(".0") ? String(shown.dropLast(2)) : shown
    }

    private func flag(_ key: SettingKey) -> String { "--" + key.name.replacingOccurrences(of: "_", with: "-") }

    @Test func theOperationsTableHasEverySettingWithItsFlagVariableAndDefault() throws {
        let table = try String(contentsOf: Self.root.appendingPathComponent("Docs/OPERATIONS.md"), encoding: .utf8)
            .split(separator: "\n").filter { $0.hasPrefix("| `") }
        for key in SettingKey.all {
            let row = table.first { $0.contains("`\(key.name)`") }
            try #require(row != nil, "no row for \(key.name)")
            let columns = row!.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(columns[1].contains("`\(flag(key))`"), "\(key.name): flag")
            #expect(columns[2].contains("CIRCLE_\(key.name.uppercased())"), "\(key.name): environment")
            if let value = defaultValue(key) {
                #expect(columns[3].hasPrefix("`\(value)`"), "\(key.name): default \(value), table \(columns[3])")
            }
        }
    }

    @Test func serveHelpHasEverySettingWithItsDefault() throws {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("circle")
        let help = try runProcess(binary, ["serve", "--help"]).stdout
        let paragraphs = help.components(separatedBy: "\n  --").dropFirst().map {
            "--" + $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        for key in SettingKey.all {
            let paragraph = paragraphs.first { $0.hasPrefix(flag(key) + " ") || $0.hasPrefix(flag(key) + "/") }
            try #require(paragraph != nil, "no \(flag(key)) in circle serve --help")
            if let value = defaultValue(key) {
                #expect(paragraph!.lowercased().contains("default: \(value.lowercased())")
                        || paragraph!.lowercased().contains("default \(value.lowercased())"),
                        "\(flag(key)): help should give the default \(value): \(paragraph!)")
            }
        }
    }
}
