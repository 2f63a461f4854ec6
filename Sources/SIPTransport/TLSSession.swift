#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// One OpenSSL `SSL` over a non-blocking socket. Every call reports what it needs next rather than
/// blocking: `.wantRead` / `.wantWrite` tell the poll loop which readiness to wait for.
final class TLSSession {
    enum IOResult {
        case done(Int)
        case wantRead
        case wantWrite
        /// The peer closed the TLS session (close_notify) or the socket.
        case closed
        case failed(String)
    }

    let ssl: OpaquePointer
    let context: TLSContext

    init(context: TLSContext, fd: Int32, serverName: String?) throws(TransportError) {
        guard let ssl = SSL_new(context.context) else { throw TLSContext.failure("SSL_new") }
        self.ssl = ssl
        self.context = context
        guard SSL_set_fd(ssl, fd) == 1 else { throw TLSContext.failure("SSL_set_fd") }
        switch context.role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let name = serverName, !name.isEmpty {
                let bare = SocketAddress.unbracketed(name)
                if SocketAddress.isNumeric(bare) {
                    // RFC 6066 §3: no SNI for address literals; check the certificate's IP SAN instead.
                    if context.verifiesPeer {
                        guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), bare) == 1 else {
                            throw TLSContext.failure("expected IP address '\(bare)'")
                        }
                    }
                } else {
                    guard dialtone_SSL_set_tlsext_host_name(ssl, bare) == 1 else { throw TLSContext.failure("SNI '\(bare)'") }
                    if context.verifiesPeer {
                        guard SSL_set1_host(ssl, bare) == 1 else { throw TLSContext.failure("expected host name '\(bare)'") }
                    }
                }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake; `.done(0)` when it is complete.
    func handshake() -> IOResult {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done(0) }
        return classify(rc)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        ERR_clear_error()
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if rc > 0 { return .done(Int(rc)) }
        return classify(rc)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        ERR_clear_error()
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
        if rc > 0 { return .done(Int(rc)) }
        return classify(rc)
    }

    /// Decrypted octets OpenSSL holds that `poll` cannot see.
    var pendingCount: Int { Int(SSL_pending(ssl)) }

    /// Sends close_notify, once, without waiting for the peer's.
    func shutdown() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The server name the client sent (SNI), on the server side.
    var requestedServerName: String? {
        guard let p = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return nil }
        return String(cString: p)
    }

    /// The negotiated protocol version, e.g. "TLSv1.3".
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    private func classify(_ rc: Int32) -> IOResult {
        let saved = errno
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let queued = ERR_peek_error() != 0 ? TLSContext.drainErrors() : nil
            if let queued { return .failed(queued) }
            if saved == 0 || saved == ECONNRESET || saved == EPIPE { return .closed }
            return .failed(String(cString: strerror(saved)))
        default:
            let verify = SSL_get_verify_result(ssl)
            var text = TLSContext.drainErrors()
            if verify != X509_V_OK {
                text = "certificate verification failed: \(String(cString: X509_verify_cert_error_string(verify))) (\(text))"
            }
            return .failed(text)
        }
    }
}
