import COpenSSL

/// Where client nonces (cnonce) and server nonces get their randomness. Injectable so tests are
/// deterministic; `.system` uses OpenSSL's RAND_bytes.
public struct DigestRandomSource: Sendable {
    private let generate: @Sendable (Int) -> [UInt8]

    /// A source returning `count` bytes per call.
    public init(_ generate: @escaping @Sendable (Int) -> [UInt8]) {
        self.generate = generate
    }

    /// `count` random bytes.
    public func bytes(_ count: Int) -> [UInt8] {
        let b = generate(count)
        precondition(b.count == count, "random source returned \(b.count) bytes, wanted \(count)")
        return b
    }

    /// OpenSSL's CSPRNG. Traps if RAND_bytes fails (no entropy: nothing safe to do).
    public static let system = DigestRandomSource { count in
        var out = [UInt8](repeating: 0, count: count)
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        precondition(ok == 1, "RAND_bytes failed")
        return out
    }

    /// A deterministic source for tests: `pattern` repeated to the requested length.
    public static func repeating(_ pattern: [UInt8]) -> DigestRandomSource {
        precondition(!pattern.isEmpty)
        return DigestRandomSource { count in (0..<count).map { pattern[$0 % pattern.count] } }
    }
}
