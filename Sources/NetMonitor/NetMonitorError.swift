#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// Why a `NetMonitor` could not be set up, or a dump failed.
public struct NetMonitorError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The named network namespace could not be opened or entered.
        case namespace
        /// A netlink socket could not be allocated, connected or configured.
        case socket
        /// A dump (links, addresses, routes) failed.
        case dump
        /// The short-lived thread that works inside a namespace could not be started.
        case thread
    }

    public let code: Code
    public let description: String

    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// An error naming the call and `errno`'s text.
    static func errno(_ code: Code, _ call: String, _ value: Int32 = Glibc.errno) -> NetMonitorError {
        NetMonitorError(code, "\(call): \(String(cString: strerror(value)))")
    }

    /// An error naming the call and libnl's text for its (negative) error code.
    static func libnl(_ code: Code, _ call: String, _ value: Int32) -> NetMonitorError {
        NetMonitorError(code, "\(call): \(String(cString: nl_geterror(value)))")
    }
}
