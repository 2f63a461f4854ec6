#if canImport(Glibc)
import Glibc
#endif

/// A failure to set up a socket, a listener or a TLS context.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The address is not a numeric IPv4 or IPv6 address.
        case badAddress
        /// A socket call failed (`errno`).
        case socket
        /// OpenSSL refused (context, certificate, key or CA file).
        case tls
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A `.socket` error naming the call and `errno`'s text.
    static func errno(_ call: String, _ value: Int32 = Glibc.errno) -> TransportError {
        TransportError(.socket, "\(call): \(String(cString: strerror(value)))")
    }
}

/// Monotonic time in milliseconds, for the `now` arguments of the stream transports.
public enum MonotonicClock {
    public static func milliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}
