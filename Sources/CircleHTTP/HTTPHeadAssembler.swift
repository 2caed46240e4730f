/// The feed loop both head parsers share: lines come from `HTTPHeadReader`, the start line is parsed as soon as it is
/// complete, and the head is built when the blank line arrives. After a head it starts over for the next one; after a
/// failure it keeps returning that failure.
struct HTTPHeadAssembler<StartLine: Sendable>: Sendable {
    enum Outcome<Head> {
        case needMore
        case complete(Head, consumed: Int)
        case failure(HTTPError)
    }

    private let limits: HTTPLimits
    private let startLineTooLong: HTTPError
    private var reader: HTTPHeadReader
    private var startLine: StartLine?
    private var failed: HTTPError?

    init(limits: HTTPLimits, startLineTooLong: HTTPError) {
        self.limits = limits
        self.startLineTooLong = startLineTooLong
        reader = HTTPHeadReader(limits: limits, startLineTooLong: startLineTooLong)
    }

    /// Feeds bytes in any split. `parseStart` reads the start line; `build` makes the head from it and the fields.
    mutating func feed<Head>(
        _ bytes: UnsafeRawBufferPointer,
        parseStart: (UnsafeRawBufferPointer) -> Result<StartLine, HTTPError>,
        build: (StartLine, [HTTPHeader]) -> Result<Head, HTTPError>
    ) -> Outcome<Head> {
        if let failed { return .failure(failed) }
        var index = 0
        while true {
            switch reader.advance(bytes, &index) {
            case .needMore:
                return .needMore
            case .failure(let error):
                return fail(error)
            case .startLine(let line):
                switch line.withUnsafeBytes(parseStart) {
                case .success(let parsed): startLine = parsed
                case .failure(let error): return fail(error)
                }
            case .complete(let headers):
                guard let startLine else { return fail(HTTPError(status: 400)) }
                switch build(startLine, headers) {
                case .success(let head):
                    self = HTTPHeadAssembler(limits: limits, startLineTooLong: startLineTooLong)
                    return .complete(head, consumed: index)
                case .failure(let error):
                    return fail(error)
                }
            }
        }
    }

    private mutating func fail<Head>(_ error: HTTPError) -> Outcome<Head> {
        failed = error
        return .failure(error)
    }
}
