import CircleJSON
import Testing

/// The error `text` fails to parse with, or nil if it parses.
func parseError(_ text: String, limits: JSONLimits = .init()) -> JSONError? {
    parseError(Array(text.utf8), limits: limits)
}

/// The error `bytes` fail to parse with, or nil if they parse.
func parseError(_ bytes: [UInt8], limits: JSONLimits = .init()) -> JSONError? {
    do {
        _ = try JSON.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// `bytes` wrapped in JSON string quotes.
func quoted(_ bytes: [UInt8]) -> [UInt8] { [0x22] + bytes + [0x22] }

/// Compact JSON text of a value, as a String.
func text(_ json: JSON) -> String { String(decoding: json.serialized(), as: UTF8.self) }
