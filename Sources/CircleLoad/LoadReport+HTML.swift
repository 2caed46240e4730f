import Glibc

/// The self-contained HTML report: no script, no external asset, two inline SVG charts.
extension LoadReport {
    /// The whole page.
    public var html: String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Circle load test</title>
        <style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
        pre{background:#f5f5f5;padding:1em;overflow-x:auto}
        h2{margin-top:1.5em}svg{background:#fff;border:1px solid #ddd}</style></head><body>
        <h1>Circle load test</h1>
        <pre>\(Self.escape(human))</pre>
        <h2>Latency: send to each recipient</h2>
        \(histogramSVG)
        <h2>Timeline</h2>
        \(timelineSVG)
        <h2>Summary (JSON)</h2>
        <pre>\(Self.escape(json))</pre>
        </body></html>

        """
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    private static func fmt(_ v: Double) -> String { String(Int(v.rounded())) }

    /// `<line …/>` from (x1, y1) to (x2, y2), black unless `style` says otherwise.
    private static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double,
                             _ style: String = #"stroke="black""#) -> String {
        #"<line x1="\#(fmt(x1))" y1="\#(fmt(y1))" x2="\#(fmt(x2))" y2="\#(fmt(y2))" \#(style)/>"#
    }

    /// Bars of the latency histogram on a log-scaled axis (ms), with p50/p99 marked.
    var histogramSVG: String {
        let (w, h, left, bottom) = (800.0, 260.0, 50.0, 30.0)
        let buckets = metrics.latency.buckets
        guard let first = buckets.first, let last = buckets.last else { return "<p>No measured deliveries.</p>" }
        let lo = log10(max(1.0, Double(first.low))), hi = log10(Double(last.high)) + 0.01
        let width = w - left - 10
        let x = { (ns: Double) -> Double in
            let position: Double = (log10(max(1.0, ns)) - lo) / (hi - lo)
            return left + position * width
        }
        let peak = Double(buckets.map(\.count).max() ?? 1)
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(w))" height="\#(Int(h))">"#
        for b in buckets {
            let x0 = x(Double(b.low)), x1 = max(x0 + 1, x(Double(b.high)))
            let bh = Double(b.count) / peak * (h - bottom - 10)
            svg += #"<rect x="\#(Self.fmt(x0))" y="\#(Self.fmt(h - bottom - bh))" width="\#(Self.fmt(x1 - x0))""#
                + #" height="\#(Self.fmt(bh))" fill="steelblue"/>"#
        }
        var tick = pow(10, floor(lo))
        while tick <= pow(10, hi) {
            if tick >= pow(10, lo) {
                let tx = x(tick)
                svg += Self.line(tx, h - bottom, tx, h - bottom + 4)
                svg += #"<text x="\#(Self.fmt(tx))" y="\#(Self.fmt(h - 8))" font-size="11" text-anchor="middle">"#
                    + #"\#(Self.label(ms: tick / 1e6))</text>"#
            }
            tick *= 10
        }
        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
            let px = x(Double(metrics.latency.quantile(q)))
            svg += Self.line(px, 10, px, h - bottom, #"stroke="firebrick" stroke-dasharray="4 3""#)
            svg += #"<text x="\#(Self.fmt(px + 3))" y="20" font-size="11" fill="firebrick">\#(name)</text>"#
        }
        svg += Self.line(left, h - bottom, w - 10, h - bottom)
        return svg + "</svg><p>x: latency (ms, log scale); y: deliveries per bucket.</p>"
    }

    private static func label(ms: Double) -> String {
        ms >= 1 ? "\(Int(ms)) ms" : "\(String(ms).prefix(6)) ms"
    }

    /// Sent, delivered and errors per second, and clients connected.
    var timelineSVG: String {
        let samples = metrics.timeline
        guard samples.count >= 2 else { return "<p>Too short for a timeline.</p>" }
        let (w, h, left, bottom) = (800.0, 260.0, 60.0, 30.0)
        let top = Double(samples.map { max($0.sent, $0.received) }.max() ?? 1)
        let peakConnected = Double(max(1, samples.map(\.connected).max() ?? 1))
        let seconds = Double(samples.last!.second)
        let width = w - left - 10, height = h - bottom - 10
        let x = { (s: Int) -> Double in left + Double(s) / max(1, seconds) * width }
        let y = { (v: Double, scale: Double) -> Double in h - bottom - v / max(1, scale) * height }
        func line(_ values: [Double], _ scale: Double, _ color: String) -> String {
            let points = zip(samples, values).map { "\(Self.fmt(x($0.second))),\(Self.fmt(y($1, scale)))" }
            let joined = points.joined(separator: " ")
            return #"<polyline fill="none" stroke="\#(color)" stroke-width="2" points="\#(joined)"/>"#
        }
        var svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(w))" height="\#(Int(h))">"#
        svg += line(samples.map { Double($0.sent) }, top, "steelblue")
        svg += line(samples.map { Double($0.received) }, top, "seagreen")
        svg += line(samples.map { Double($0.connected) }, peakConnected, "gray")
        for s in samples where s.errors > 0 {
            svg += #"<circle cx="\#(Self.fmt(x(s.second)))" cy="\#(Self.fmt(h - bottom))" r="4" fill="firebrick">"#
                + #"<title>\#(s.errors) errors</title></circle>"#
        }
        svg += Self.line(left, h - bottom, w - 10, h - bottom)
        svg += #"<text x="4" y="16" font-size="11">\#(Int(top))/s</text>"#
            + #"<text x="4" y="\#(Self.fmt(h - bottom))" font-size="11">0</text>"#
        svg += #"<text x="\#(Self.fmt(w - 40))" y="\#(Self.fmt(h - 8))" font-size="11">\#(Int(seconds)) s</text>"#
        return svg + #"</svg><p><span style="color:steelblue">sent/s</span>, "#
            + #"<span style="color:seagreen">received/s</span>, <span style="color:gray">connected (scaled)</span>, "#
            + #"<span style="color:firebrick">errors</span>.</p>"#
    }
}
