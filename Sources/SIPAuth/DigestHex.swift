/// Lower-case hex encoding and constant-time comparison for digests.
public enum DigestHex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex (RFC 7616 §3.4: LHEX).
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Compares two strings in time that depends only on their lengths, not on where they differ
    /// (RFC 7616 §5.11 spirit: do not leak how much of a response was right). ASCII letters compare
    /// case-insensitively so that upper-case hex from a sloppy peer still matches.
    public static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count {
            diff |= foldCase(x[i]) ^ foldCase(y[i])
        }
        return diff == 0
    }

    /// ASCII upper-case to lower-case without a data-dependent branch.
    @inline(__always)
    private static func foldCase(_ c: UInt8) -> UInt8 {
        // 0x20 when c is in 'A'...'Z', else 0.
        let geA = UInt8(truncatingIfNeeded: (Int(c) - 0x41) >> 8) ^ 0xFF  // 0xFF if c >= 'A'
        let leZ = UInt8(truncatingIfNeeded: (0x5A - Int(c)) >> 8) ^ 0xFF  // 0xFF if c <= 'Z'
        return c | (geA & leZ & 0x20)
    }
}
