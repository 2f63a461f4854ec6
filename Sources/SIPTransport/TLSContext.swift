#if canImport(Glibc)
import Glibc
#endif
import COpenSSL

/// An OpenSSL `SSL_CTX` for SIP over TLS (RFC 3261 §26.2.1, RFC 5630): TLS 1.2 or later.
///
/// A server context holds a certificate chain and key (PEM files); a client context holds the trusted
/// CAs and verifies the server's certificate by default (chain and host name or IP address, see
/// `TCPConnection.connect`). Creating a context sets SIGPIPE to ignored: OpenSSL writes to the socket
/// with `write(2)`, which would otherwise raise it when the peer has gone.
public final class TLSContext: @unchecked Sendable {
    public enum Role: Sendable { case server, client }

    public let role: Role
    /// Whether a client checks the server's certificate (chain and name).
    public let verifiesPeer: Bool
    let context: OpaquePointer

    /// A server context from a PEM certificate chain and PEM private key.
    public init(server certificateFile: String, keyFile: String) throws(TransportError) {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSContext.failure("SSL_CTX_new") }
        role = .server
        verifiesPeer = false
        context = ctx
        try configureCommon()
        guard SSL_CTX_use_certificate_chain_file(ctx, certificateFile) == 1 else {
            throw TLSContext.failure("certificate '\(certificateFile)'")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw TLSContext.failure("private key '\(keyFile)'")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else { throw TLSContext.failure("key does not match certificate") }
    }

    /// A client context trusting the CAs in `caFile` (PEM), or the system's default CAs when nil.
    /// `verifyPeer: false` turns certificate checking off (tests and debugging only).
    public init(clientCAFile caFile: String?, verifyPeer: Bool = true) throws(TransportError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSContext.failure("SSL_CTX_new") }
        role = .client
        verifiesPeer = verifyPeer
        context = ctx
        try configureCommon()
        if let caFile {
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else { throw TLSContext.failure("CA file '\(caFile)'") }
        } else {
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else { throw TLSContext.failure("default CA paths") }
        }
        SSL_CTX_set_verify(ctx, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
    }

    deinit { SSL_CTX_free(context) }

    private func configureCommon() throws(TransportError) {
        _ = signal(SIGPIPE, SIG_IGN)
        guard dialtone_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSContext.failure("minimum protocol version")
        }
        _ = dialtone_SSL_CTX_set_mode(context, dialtone_SSL_partial_write_modes())
    }

    /// A `.tls` error with `what` and OpenSSL's error queue (which it empties).
    static func failure(_ what: String) -> TransportError {
        TransportError(.tls, "\(what): \(drainErrors())")
    }

    /// OpenSSL's queued errors as text, emptying the queue.
    static func drainErrors() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            if parts.count < 4 { parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        }
        return parts.isEmpty ? "unknown TLS error" : parts.joined(separator: "; ")
    }
}
