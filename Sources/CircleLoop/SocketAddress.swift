import CLibUV

/// An IPv4 or IPv6 socket address, parsed from a literal.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    public let host: String
    public let port: Int

    /// `host` is an IP literal (`127.0.0.1`, `::1`, `0.0.0.0`, `::`) or `localhost` (IPv4 loopback).
    public init(host: String, port: Int) throws(LoopError) {
        let literal = host == "localhost" ? "127.0.0.1" : host
        guard (0...65535).contains(port) else { throw LoopError(UV_EINVAL.rawValue, "port \(port)") }
        self.host = literal
        self.port = port
        var s = sockaddr_storage()
        let rc: Int32 = withUnsafeMutablePointer(to: &s) { p in
            if literal.contains(":") {
                return uv_ip6_addr(literal, Int32(port), UnsafeMutablePointer<sockaddr_in6>(OpaquePointer(p)))
            }
            return uv_ip4_addr(literal, Int32(port), UnsafeMutablePointer<sockaddr_in>(OpaquePointer(p)))
        }
        try uvCheck(rc, "address \(host)")
        storage = s
    }

    init(storage: sockaddr_storage) {
        self.storage = storage
        var name = [CChar](repeating: 0, count: 64)
        var port = 0
        var s = storage
        withUnsafePointer(to: &s) { p in
            if Int32(storage.ss_family) == AF_INET6 {
                let a = UnsafePointer<sockaddr_in6>(OpaquePointer(p))
                uv_ip6_name(a, &name, name.count)
                port = Int(UInt16(bigEndian: a.pointee.sin6_port))
            } else {
                let a = UnsafePointer<sockaddr_in>(OpaquePointer(p))
                uv_ip4_name(a, &name, name.count)
                port = Int(UInt16(bigEndian: a.pointee.sin_port))
            }
        }
        self.host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.port = port
    }

    public var isIPv6: Bool { Int32(storage.ss_family) == AF_INET6 }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { body(UnsafePointer<sockaddr>(OpaquePointer($0))) }
    }
}
