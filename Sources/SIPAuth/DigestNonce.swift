/// A stateless server nonce (RFC 7616 §3.3 suggests `time-stamp H(time-stamp ":" ETag ":" secret)`):
///
///     nonce = hex(issued-ms, 8 bytes) hex(random, 8 bytes) hex(HMAC-SHA-256(secret, …)[0..<16])
///
/// 64 hex characters. The HMAC covers the time stamp, the random part and the realm, so a server
/// holding the secret can check a nonce it issued, and its age, without having stored it.
struct DigestNonce: Hashable, Sendable {
    /// Issue time in milliseconds since the caller's epoch.
    var issuedMilliseconds: Int64
    var random: [UInt8]

    static let textLength = 64

    init(issuedMilliseconds: Int64, random: [UInt8]) {
        self.issuedMilliseconds = issuedMilliseconds
        self.random = random
    }

    private func mac(secret: [UInt8], realm: String) -> [UInt8] {
        var message = Array("dialtone-digest-nonce:".utf8)
        message += DigestNonce.bigEndian(issuedMilliseconds)
        message += random
        message += Array(realm.utf8)
        return Array(DigestHashFunction.sha256.hmac(key: secret, message: message).prefix(16))
    }

    static func bigEndian(_ v: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> (56 - 8 * UInt64($0))) }
    }

    /// The nonce text for `realm`.
    func text(secret: [UInt8], realm: String) -> String {
        DigestHex.encode(DigestNonce.bigEndian(issuedMilliseconds) + random + mac(secret: secret, realm: realm))
    }

    /// Decodes and authenticates a nonce; nil when it was not issued with `secret` for `realm`.
    init?(text: String, secret: [UInt8], realm: String) {
        guard text.utf8.count == DigestNonce.textLength, let bytes = DigestNonce.unhex(text) else { return nil }
        var issued: UInt64 = 0
        for b in bytes[0..<8] { issued = issued << 8 | UInt64(b) }
        self.init(issuedMilliseconds: Int64(bitPattern: issued), random: Array(bytes[8..<16]))
        let expected = DigestHex.encode(mac(secret: secret, realm: realm))
        guard DigestHex.constantTimeEqual(expected, DigestHex.encode(Array(bytes[16..<32]))) else { return nil }
    }

    private static func unhex(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var high: UInt8?
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return high == nil ? out : nil
    }
}
