import COpenSSL

/// The hash functions behind the Digest algorithms (RFC 7616 §3.2, §6.1; RFC 8760 §2), computed
/// by OpenSSL's libcrypto.
///
/// `sha512_256` is SHA-512/256 of FIPS 180-4 §5.3.6 (its own initial hash value), not SHA-512
/// truncated to 256 bits: RFC 7616 errata 4897 corrects the §3.9.2 example on exactly this point.
public enum DigestHashFunction: String, CaseIterable, Hashable, Sendable, Comparable {
    case md5 = "MD5"
    case sha256 = "SHA-256"
    case sha512_256 = "SHA-512-256"

    /// Relative strength: MD5 < SHA-256 < SHA-512/256.
    public var strength: Int {
        switch self {
        case .md5: return 0
        case .sha256: return 1
        case .sha512_256: return 2
        }
    }

    public static func < (a: DigestHashFunction, b: DigestHashFunction) -> Bool { a.strength < b.strength }

    /// Digest length in bytes (the hex form is twice as long, RFC 8760 §2).
    public var byteCount: Int { self == .md5 ? 16 : 32 }

    /// HMAC block size in bytes.
    var blockSize: Int { self == .sha512_256 ? 128 : 64 }

    /// OpenSSL's name for the digest.
    private var openSSLName: String {
        switch self {
        case .md5: return "MD5"
        case .sha256: return "SHA256"
        case .sha512_256: return "SHA512-256"
        }
    }

    /// The digest of `bytes`. Traps only if libcrypto lacks the algorithm (a broken installation,
    /// never something a peer can cause).
    public func digest<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        guard let md = EVP_get_digestbyname(openSSLName) else {
            preconditionFailure("libcrypto does not provide \(openSSLName)")
        }
        let input = Array(bytes)
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok: Int32 = input.withUnsafeBytes { inputBuffer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                EVP_Digest(inputBuffer.baseAddress, inputBuffer.count, outBuffer.baseAddress, &length, md, nil)
            }
        }
        precondition(ok == 1 && Int(length) == byteCount, "EVP_Digest(\(openSSLName)) failed")
        return Array(out.prefix(byteCount))
    }

    /// Lower-case hex of the digest of the UTF-8 form of `text`: RFC 7616 §3.4 `H(data)`.
    public func hex(_ text: String) -> String {
        DigestHex.encode(digest(Array(text.utf8)))
    }

    /// Lower-case hex of the digest of `bytes`.
    public func hex(_ bytes: [UInt8]) -> String {
        DigestHex.encode(digest(bytes))
    }

    /// HMAC (RFC 2104) over this hash: used to authenticate server nonces.
    public func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var k = key.count > blockSize ? digest(key) : key
        k += [UInt8](repeating: 0, count: blockSize - k.count)
        let inner = digest(k.map { $0 ^ 0x36 } + message)
        return digest(k.map { $0 ^ 0x5C } + inner)
    }
}
