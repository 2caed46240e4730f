import COpenSSL

/// The caller's buffers for the duration of one ``TLSConnection`` call; empty between calls.
struct BIOBuffers {
    /// Ciphertext from the socket that OpenSSL has not consumed yet.
    var input = UnsafeRawBufferPointer(start: nil, count: 0)
    /// The caller's output array, which records to send are appended to; nil between calls.
    var output: UnsafeMutablePointer<[UInt8]>?
}

/// A BIO over the caller's own buffers, in place of two memory BIOs.
///
/// OpenSSL reads ciphertext straight from the bytes the socket delivered and writes records straight onto the
/// caller's output array: no copy through an intermediate buffer, and nothing held between calls. A memory BIO
/// would keep its high-water mark allocated for the life of the connection (it never shrinks); this one owns no
/// memory at all. Reads with no input left and writes outside a call report "retry", which OpenSSL turns into
/// `SSL_ERROR_WANT_READ` / `SSL_ERROR_WANT_WRITE`: nothing ever blocks.
enum CallerBIO {
    /// The method table, built once; `BIO_METHOD` is immutable after setup and shared by every thread.
    private struct Method: @unchecked Sendable { let pointer: OpaquePointer }

    private static let method: Method = {
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "circle caller buffers") else {
            fatalError("OpenSSL cannot allocate a BIO method")
        }
        _ = BIO_meth_set_create(method) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        _ = BIO_meth_set_read(method) { bio, destination, capacity in
            guard let bio, let destination, capacity > 0 else { return 0 }
            circle_BIO_clear_retry_flags(bio)
            let buffers = CallerBIO.buffers(bio)
            let input = buffers.pointee.input
            guard !input.isEmpty else {
                circle_BIO_set_retry_read(bio)
                return -1
            }
            let count = min(Int(capacity), input.count)
            UnsafeMutableRawPointer(destination).copyMemory(from: input.baseAddress!, byteCount: count)
            buffers.pointee.input = UnsafeRawBufferPointer(rebasing: input[count...])
            return Int32(count)
        }
        _ = BIO_meth_set_write(method) { bio, source, count in
            guard let bio, let source, count >= 0 else { return -1 }
            circle_BIO_clear_retry_flags(bio)
            guard let output = CallerBIO.buffers(bio).pointee.output else {
                circle_BIO_set_retry_write(bio)
                return -1
            }
            output.pointee.append(contentsOf: UnsafeRawBufferPointer(start: source, count: Int(count)))
            return count
        }
        // OpenSSL flushes after each flight; everything is already in the caller's array.
        _ = BIO_meth_set_ctrl(method) { _, command, _, _ in command == BIO_CTRL_FLUSH ? 1 : 0 }
        return Method(pointer: method)
    }()

    private static func buffers(_ bio: OpaquePointer) -> UnsafeMutablePointer<BIOBuffers> {
        BIO_get_data(bio)!.assumingMemoryBound(to: BIOBuffers.self)
    }

    /// A new BIO over `buffers`, which must outlive it. The caller hands it to `SSL_set_bio`, which then owns it.
    static func make(over buffers: UnsafeMutablePointer<BIOBuffers>) -> OpaquePointer? {
        guard let bio = BIO_new(method.pointer) else { return nil }
        BIO_set_data(bio, buffers)
        return bio
    }
}
