/// RFC 3339 UTC times from Unix milliseconds, without the C library: records and logs read the same.
public enum UTCTime {
    /// `2026-12-05T15:04:05.123Z`, or without the fraction when `milliseconds` is false.
    public static func rfc3339(unixMilliseconds ms: Int64, milliseconds: Bool = false) -> String {
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let (y, m, d) = civil(days: days)
        let seconds = msOfDay / 1000
        var out = "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + pad(seconds % 60, 2)
        if milliseconds { out += "." + pad(msOfDay % 1000, 3) }
        return out + "Z"
    }

    /// Year, month, day of a count of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(days z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
