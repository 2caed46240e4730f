/// A configuration error, with where the bad value came from (`--port`, `CIRCLE_PORT`, `circle.conf:3`).
public struct SettingsError: Error, Equatable, CustomStringConvertible {
    /// One line for the operator.
    public let description: String

    init(_ description: String) { self.description = description }
}

/// The raw values one configuration source gives: setting name → values, and where each was given.
///
/// Names are the flag names with `_` for `-` (`tls_cert` for `--tls-cert`). Repeatable settings (`host`,
/// `allow_origin`, `metrics_host`) may hold several values; in a higher layer they replace the lower layer's list.
public struct SettingsLayer: Sendable, Equatable {
    /// Name → values.
    public private(set) var values: [String: [String]] = [:]
    /// Name → where it was given.
    public private(set) var origins: [String: String] = [:]

    /// An empty layer.
    public init() {}

    /// Sets `name` (any `-` is read as `_`) to `values`, given at `origin`.
    public mutating func set(_ name: String, _ values: [String], origin: String) {
        let key = Self.normalized(name)
        self.values[key] = values
        origins[key] = origin
    }

    static func normalized(_ name: String) -> String {
        String(name.lowercased().map { $0 == "-" ? "_" : $0 })
    }

    // MARK: Config file

    /// The largest config file read.
    public static let maxFileBytes = 1 << 20

    /// Parses a config file: one `name = value` per line; blank lines and lines starting with `#` are ignored, as
    /// is the rest of a line from ` #` on. A value may be double-quoted (then `#` and spaces are kept). Repeatable
    /// settings take a comma-separated list or several lines. Unknown names, a name given twice, and `secret` (secrets
    /// belong in `secret_file` or the environment) are refused with the line number.
    public static func file(_ text: String, path: String) throws(SettingsError) -> SettingsLayer {
        guard text.utf8.count <= maxFileBytes else { throw SettingsError("\(path): larger than 1 MiB") }
        var layer = SettingsLayer()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let origin = "\(path):\(lineNumber)"
            let line = stripComment(trimmed(Substring(rawLine)))
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw SettingsError("\(origin): expected `name = value`")
            }
            let name = normalized(String(trimmed(line[..<equals])))
            var value = trimmed(line[line.index(after: equals)...])
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw SettingsError("\(origin): unterminated quote")
                }
                value = value.dropFirst().dropLast()
            }
            if name == "secret" {
                throw SettingsError("\(origin): a secret may not be written in the config file; "
                                    + "use secret_file = PATH or CIRCLE_SECRET")
            }
            guard let setting = SettingKey.named(name) else {
                throw SettingsError("\(origin): unknown setting `\(name)`")
            }
            if setting.repeats {
                let items = value.split(separator: ",").map { String(trimmed($0)) }.filter { !$0.isEmpty }
                layer.set(name, (layer.values[name] ?? []) + items, origin: layer.origins[name] ?? origin)
            } else {
                if let earlier = layer.origins[name] {
                    throw SettingsError("\(origin): `\(name)` already set at \(earlier)")
                }
                layer.set(name, [String(value)], origin: origin)
            }
        }
        return layer
    }

    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }

    /// Drops a whole-line comment, or a ` #` comment after an unquoted value.
    private static func stripComment(_ line: Substring) -> Substring {
        if line.hasPrefix("#") { return "" }
        var quoted = false
        var previous: Character = " "
        for i in line.indices {
            let c = line[i]
            if c == "\"" { quoted.toggle() }
            if c == "#" && !quoted && (previous == " " || previous == "\t") { return trimmed(line[..<i]) }
            previous = c
        }
        return line
    }

    // MARK: Environment

    /// The settings in the environment: `CIRCLE_<NAME>` for each setting (`CIRCLE_TLS_CERT`); repeatable ones take a
    /// comma-separated list. `CIRCLE_SECRET` (the secret itself) is noted as present, never copied. Other `CIRCLE_*`
    /// variables are ignored (CI systems set many).
    public static func environment(_ environment: [String: String]) -> SettingsLayer {
        var layer = SettingsLayer()
        for setting in SettingKey.all {
            let variable = "CIRCLE_" + setting.name.uppercased()
            guard let value = environment[variable] else { continue }
            let values = setting.repeats
                ? value.split(separator: ",").map { String(trimmed($0)) }.filter { !$0.isEmpty }
                : [value]
            layer.set(setting.name, values, origin: variable)
        }
        if environment["CIRCLE_SECRET"] != nil { layer.set("secret", [], origin: "CIRCLE_SECRET") }
        return layer
    }
}
