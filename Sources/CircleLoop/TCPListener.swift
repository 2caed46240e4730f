import CLibUV

/// A listening TCP socket. Each accepted socket becomes a `TCPConnection` handed to `onConnection`.
///
/// On `EMFILE` libuv accepts and at once closes pending connections (its reserve-descriptor trick), mostly silently:
/// the listener neither spins nor stops. The server therefore refuses clients (503) before descriptors run out.
public final class TCPListener: LoopHandle {
    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let loop: EventLoop
    /// Called for each accepted connection; the connection is not reading yet.
    public var onConnection: ((TCPConnection) -> Void)?
    /// Called when accepting fails (e.g. `EMFILE`); accepting carries on.
    public var onAcceptError: ((LoopError) -> Void)?
    /// The address actually bound (with the real port when 0 was asked for).
    public private(set) var address: SocketAddress

    public init(loop: EventLoop, host: String, port: Int, backlog: Int32 = 1024) throws(LoopError) {
        self.loop = loop
        let addr = try SocketAddress(host: host, port: port)
        address = addr
        handle = .allocate(capacity: 1)
        uv_tcp_init(loop.uv, handle)
        super.init(handle)
        do throws(LoopError) {
            let flags: UInt32 = addr.isIPv6 ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0
            try uvCheck(addr.withSockaddr { uv_tcp_bind(handle, $0, flags) }, "bind \(addr)")
            try uvCheck(uv_listen(asStream(handle), backlog) { server, status in
                let l = Unmanaged<TCPListener>.fromOpaque(server!.pointee.data).takeUnretainedValue()
                l.accept(status: status)
            }, "listen \(addr)")
            var storage = sockaddr_storage()
            var len = Int32(MemoryLayout<sockaddr_storage>.size)
            try uvCheck(withUnsafeMutablePointer(to: &storage) {
                uv_tcp_getsockname(handle, UnsafeMutablePointer<sockaddr>(OpaquePointer($0)), &len)
            }, "getsockname")
            address = SocketAddress(storage: storage)
        } catch {
            close()
            throw error
        }
    }

    /// The bound port.
    public var port: Int { address.port }

    private func accept(status: Int32) {
        if status < 0 {
            onAcceptError?(LoopError(status, "accept"))
            return
        }
        let connection = TCPConnection(loop: loop)
        let rc = uv_accept(asStream(handle), asStream(connection.handle))
        if rc < 0 {
            connection.close()
            onAcceptError?(LoopError(rc, "accept"))
            return
        }
        uv_tcp_nodelay(connection.handle, 1)
        onConnection?(connection)
    }

    override func willClose() {
        onConnection = nil
        onAcceptError = nil
    }

    /// Stops accepting and closes the socket; idempotent.
    public func close() { closeHandle() }
}
