import CNIOBoringSSL
import Glibc

/// Where BoringSSL reads a loop's TLS connections from: one `read` of up to 16 KiB per readable
/// event into a buffer of the loop's, handed out as BoringSSL asks.
///
/// BoringSSL's socket BIO reads a record in two system calls, its 5-byte header and then its body
/// (it has no read-ahead for TLS), one more per request than plain HTTP. Reading more than it asks
/// for needs a buffer; a memory BIO per connection would keep one on every idle connection. This
/// buffer is the loop's: every SSL call that reads runs until BoringSSL wants more (`wouldBlock`),
/// and BoringSSL only wants more once the buffer is empty, so nothing is left in it between
/// events. The exceptions: a handshake that completed with the client's first request behind it
/// is read on at once (`DataPathLoop.continueHandshake`); a call that stopped to wait for the
/// socket to take a record (WANT_WRITE, rare) leaves its bytes, which `begin` parks for that
/// connection until its next call (it is made when the socket becomes writable).
///
/// At most one `read` per `begin`: a client sending faster than the loop reads gets no more of its
/// turn than over plain HTTP (level-triggered epoll reports the rest).
final class DataPathTLSInput {
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var fd: Int32 = -1
    private var readsLeft = 0
    /// Bytes a connection left here when another one's call began, by descriptor.
    private var parked: [Int32: [UInt8]] = [:]

    init(capacity: Int = 16384 + 5) {
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// The next SSL calls are for the connection on `fd`.
    func begin(_ fd: Int32) {
        if fd != self.fd {
            if start < end, self.fd >= 0 {
                parked[self.fd] = Array(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            }
            start = 0
            end = 0
            self.fd = fd
            if let bytes = parked.removeValue(forKey: fd) {
                buffer.copyBytes(from: bytes)
                end = bytes.count
            }
        }
        readsLeft = 1
    }

    /// The next SSL calls are for the connection on `fd`, and BoringSSL reads `bytes` (read from
    /// its socket already: the ClientHello) first.
    func preload(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        begin(fd)
        let count = min(bytes.count, buffer.count - end)
        UnsafeMutableRawBufferPointer(rebasing: buffer[end..<end + count]).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(count)))
        end += count
    }

    /// Whether bytes of the connection on `fd` wait here.
    func hasBytes(for fd: Int32) -> Bool { (fd == self.fd && start < end) || parked[fd] != nil }

    /// The connection on `fd` is gone: what it left must not reach one that reuses the number.
    func forget(_ fd: Int32) {
        parked[fd] = nil
        guard fd == self.fd else { return }
        start = 0
        end = 0
        self.fd = -1
    }

    /// Gives BoringSSL up to `count` bytes: 0 at the end of the stream, -1 and a retry flag when
    /// nothing is there yet, -1 alone for an error.
    fileprivate func read(into destination: UnsafeMutablePointer<CChar>, count: Int, bio: OpaquePointer) -> Int32 {
        BIO_clear_retry_flags(bio)
        if start == end {
            guard readsLeft > 0, fd >= 0 else {
                BIO_set_retry_read(bio)
                return -1
            }
            readsLeft -= 1
            start = 0
            end = 0
            var n: Int
            repeat { n = Glibc.read(fd, buffer.baseAddress, buffer.count) } while n < 0 && errno == EINTR
            if n == 0 { return 0 }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { BIO_set_retry_read(bio) }
                return -1
            }
            end = n
        }
        let taken = min(count, end - start)
        UnsafeMutableRawPointer(destination).copyMemory(from: buffer.baseAddress! + start, byteCount: taken)
        start += taken
        return Int32(taken)
    }

    /// A BIO reading through this input, for `SSL_set0_rbio`. It holds the input unretained: the
    /// loop owns both and frees its connections before itself.
    func makeBIO() -> OpaquePointer? {
        guard let method = Self.method.pointer, let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    /// The BIO method, made once.
    private static let method = Method()

    private final class Method: @unchecked Sendable {
        let pointer: OpaquePointer?

        init() {
            pointer = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "swiftlet data path input")
            guard let pointer else { return }
            BIO_meth_set_read(pointer) { bio, destination, count in
                guard let bio, let destination, count > 0, let data = BIO_get_data(bio) else { return -1 }
                // Without a retain and release per call: the loop holds the input.
                return Unmanaged<DataPathTLSInput>.fromOpaque(data)._withUnsafeGuaranteedRef {
                    $0.read(into: destination, count: Int(count), bio: bio)
                }
            }
            // BoringSSL flushes only its write BIO; answer every control call as a memory BIO's
            // unsupported ones do, without putting an error on the queue.
            BIO_meth_set_ctrl(pointer) { _, command, _, _ in command == BIO_CTRL_FLUSH ? 1 : 0 }
        }
    }
}
