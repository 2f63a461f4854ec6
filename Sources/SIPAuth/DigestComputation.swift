/// The Digest formulas (RFC 7616 §3.4.1–§3.4.4; RFC 2617 §3.2.2 for the qop-less form kept by
/// RFC 3261 §22.4 for backward compatibility). All outputs are lower-case hex.
public enum DigestComputation {
    /// H(username ":" realm ":" password).
    public static func baseHA1(hash: DigestHashFunction, username: String, realm: String, password: String) -> String {
        hash.hex(username + ":" + realm + ":" + password)
    }

    /// HA1 for `algorithm` from the base HA1: the base itself, or for `-sess` algorithms
    /// H(base ":" nonce ":" cnonce) (RFC 7616 §3.4.2).
    public static func ha1(algorithm: DigestAlgorithm, baseHA1: String, nonce: String, cnonce: String) -> String {
        guard algorithm.isSession else { return baseHA1 }
        return algorithm.hashFunction.hex(baseHA1 + ":" + nonce + ":" + cnonce)
    }

    /// HA1 from a password.
    public static func ha1(
        algorithm: DigestAlgorithm, username: String, realm: String, password: String, nonce: String, cnonce: String
    ) -> String {
        let base = baseHA1(hash: algorithm.hashFunction, username: username, realm: realm, password: password)
        return ha1(algorithm: algorithm, baseHA1: base, nonce: nonce, cnonce: cnonce)
    }

    /// HA2 = H(method ":" uri) for qop auth or none, H(method ":" uri ":" H(body)) for auth-int
    /// (RFC 7616 §3.4.3).
    public static func ha2(algorithm: DigestAlgorithm, qop: DigestQop?, method: String, uri: String, body: [UInt8]) -> String {
        let hash = algorithm.hashFunction
        if qop == .authInt {
            return hash.hex(method + ":" + uri + ":" + hash.hex(body))
        }
        return hash.hex(method + ":" + uri)
    }

    /// response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) with qop (RFC 7616 §3.4.1),
    /// H(HA1 ":" nonce ":" HA2) without (RFC 2069 form, RFC 3261 §22.4).
    public static func response(
        algorithm: DigestAlgorithm, ha1: String, nonce: String, nc: String, cnonce: String, qop: DigestQop?, ha2: String
    ) -> String {
        guard let qop else {
            return algorithm.hashFunction.hex(ha1 + ":" + nonce + ":" + ha2)
        }
        return algorithm.hashFunction.hex([ha1, nonce, nc, cnonce, qop.token, ha2].joined(separator: ":"))
    }

    /// userhash = H(username ":" realm) (RFC 7616 §3.4.4).
    public static func userhash(algorithm: DigestAlgorithm, username: String, realm: String) -> String {
        algorithm.hashFunction.hex(username + ":" + realm)
    }

    /// `nc` text: 8 lower-case hex digits (RFC 7616 §3.4).
    public static func ncText(_ count: UInt32) -> String {
        let hex = String(count, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.utf8.count)) + hex
    }
}
