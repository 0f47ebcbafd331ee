import CNIOBoringSSL
import NIOSSL

/// A BoringSSL server context for the epoll data path, made from the same PEM chain and key as the
/// certificate's NIOSSL context (NIOSSL does not expose its SSL_CTX). It matches `ServerTLS`: TLS
/// 1.2 at least, NIOSSL's default cipher list; ALPN answers http/1.1 only, since clients offering
/// h2 go to NIO before the handshake (`TLSClientHello.staysOnLoop`).
///
/// Connections made from it hold their own reference (SSL_new takes one), so a context replaced by
/// a certificate reload stays valid for the handshakes already under way.
final class DataPathTLSContext: @unchecked Sendable {
    let context: OpaquePointer

    init(chainPEM: [UInt8], keyPEM: [UInt8]) throws {
        guard let context = SSL_CTX_new(TLS_method()) else { throw TLSSecretError("SSL_CTX_new failed") }
        self.context = context
        guard SSL_CTX_set_min_proto_version(context, UInt16(TLS1_2_VERSION)) == 1,
              // NIOSSL's default list, which `ServerTLS` uses: the same suites over both paths.
              SSL_CTX_set_cipher_list(context, NIOSSL.defaultCipherSuites) == 1 else {
            throw TLSSecretError("the TLS versions or ciphers cannot be set")
        }
        // SSL_write may return after each record and be called again with a buffer that moved (the
        // loop appends to what waits for the socket).
        _ = SSL_CTX_set_mode(context, UInt32(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)
        let certificates = try Self.readPEM(chainPEM) { bio in PEM_read_bio_X509(bio, nil, nil, nil) }
        defer { for certificate in certificates { X509_free(certificate) } }
        guard let leaf = certificates.first, SSL_CTX_use_certificate(context, leaf) == 1 else {
            throw TLSSecretError("tls.crt holds no certificate BoringSSL reads")
        }
        for intermediate in certificates.dropFirst() where SSL_CTX_add1_chain_cert(context, intermediate) != 1 {
            throw TLSSecretError("an intermediate certificate in tls.crt cannot be used")
        }
        let keys = try Self.readPEM(keyPEM) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
        defer { for key in keys { EVP_PKEY_free(key) } }
        guard let key = keys.first, SSL_CTX_use_PrivateKey(context, key) == 1, SSL_CTX_check_private_key(context) == 1 else {
            throw TLSSecretError("the key in tls.key does not belong to the certificate in tls.crt")
        }
    }

    deinit { SSL_CTX_free(context) }

    /// Every PEM object `read` finds in `pem`, in order.
    private static func readPEM(_ pem: [UInt8], _ read: (OpaquePointer) -> OpaquePointer?) throws -> [OpaquePointer] {
        try pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, raw.count) else { throw TLSSecretError("BIO_new_mem_buf failed") }
            defer { BIO_free(bio) }
            var objects: [OpaquePointer] = []
            while let object = read(bio) { objects.append(object) }
            // The loop ends on "no more PEM" (or a broken block, which the NIOSSL load refused first).
            ERR_clear_error()
            return objects
        }
    }

    /// A connection over this context: nonblocking, on `fd`, handshake as the server; it writes
    /// to the socket and reads through the loop's `input`. nil when BoringSSL cannot make one
    /// (memory).
    func connection(fd: Int32, input: DataPathTLSInput) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1, let reader = input.makeBIO() else {
            SSL_free(ssl)
            return nil
        }
        SSL_set0_rbio(ssl, reader)
        SSL_set_accept_state(ssl)
        return ssl
    }
}

/// ALPN (RFC 7301 §3.2): http/1.1 when the client offers it, else no protocol, as NIOSSL's
/// callback does when nothing matches. Points into the client's list, which BoringSSL copies.
private func selectHTTP11(_ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
                          _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ arg: UnsafeMutableRawPointer?) -> Int32 {
    guard let offered, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
    let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
    var index = 0
    while index < list.count {
        let size = Int(list[index])
        let start = index + 1
        guard size > 0, start + size <= list.count else { break }
        if size == 8, UnsafeBufferPointer(rebasing: list[start..<start + size]).elementsEqual("http/1.1".utf8) {
            out.pointee = offered + start
            outLength.pointee = 8
            return SSL_TLSEXT_ERR_OK
        }
        index = start + size
    }
    return SSL_TLSEXT_ERR_NOACK
}
