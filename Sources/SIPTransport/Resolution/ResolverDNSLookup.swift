import CResolv
#if canImport(Glibc)
import Glibc
#endif

/// A DNS client over glibc's stub resolver (libresolv): `res_nquery` on a private `struct __res_state`
/// (never the process-wide `_res`), answers parsed by `DNSMessage`.
///
/// **Blocking.** `query` blocks the calling thread until an answer arrives or the resolver gives up:
/// at worst `timeout` seconds × `attempts` × the number of name servers. Call it off the signalling
/// thread. Queries on one instance are serialised by a mutex, so one instance may be shared between
/// threads (each query then waits for the one before it); use one instance per worker thread for
/// parallel queries.
///
/// By default the name servers, and the `timeout`/`attempts` options, come from /etc/resolv.conf; a
/// `Configuration.nameserver` replaces the servers with one IPv4 address and port (tests point it at a
/// dnsmasq on 127.0.0.1), and `timeout`/`attempts` override resolv.conf's when set.
public final class ResolverDNSLookup: DNSLookup, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// One IPv4 name server (numeric address, port) replacing resolv.conf's; nil keeps resolv.conf's.
        public var nameserver: (address: String, port: UInt16)?
        /// Seconds per attempt (`options timeout:`, res_state `retrans`); nil keeps resolv.conf's (default 5).
        public var timeout: Int32?
        /// Tries per server (`options attempts:`, res_state `retry`); nil keeps resolv.conf's (default 2).
        public var attempts: Int32?

        public init(nameserver: (address: String, port: UInt16)? = nil, timeout: Int32? = 2, attempts: Int32? = 2) {
            self.nameserver = nameserver
            self.timeout = timeout
            self.attempts = attempts
        }
    }

    /// The largest answer accepted (the DNS maximum over TCP).
    static let answerBufferSize = 65535

    private let state: UnsafeMutablePointer<__res_state>
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    public let configuration: Configuration

    /// Sets up a private resolver state (reads /etc/resolv.conf).
    public init(configuration: Configuration = Configuration()) throws(DNSLookupError) {
        self.configuration = configuration
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<__res_state>.size, alignment: MemoryLayout<__res_state>.alignment)
        memset(raw, 0, MemoryLayout<__res_state>.size)
        state = raw.bindMemory(to: __res_state.self, capacity: 1)
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        guard __res_ninit(state) == 0 else {
            pthread_mutex_destroy(mutex)
            mutex.deallocate()
            state.deallocate()
            throw DNSLookupError(.serverFailure, name: "", detail: "res_ninit failed")
        }
        if let timeout = configuration.timeout { state.pointee.retrans = max(1, timeout) }
        if let attempts = configuration.attempts { state.pointee.retry = max(1, attempts) }
        if let server = configuration.nameserver {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            guard inet_pton(AF_INET, server.address, &address.sin_addr) == 1 else {
                __res_nclose(state)
                pthread_mutex_destroy(mutex)
                mutex.deallocate()
                state.deallocate()
                throw DNSLookupError(.serverFailure, name: server.address, detail: "name server is not a numeric IPv4 address")
            }
            state.pointee.nsaddr_list.0 = address
            state.pointee.nscount = 1
        }
    }

    deinit {
        __res_nclose(state)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        state.deallocate()
    }

    /// Queries `name` (absolute; no search list is applied) for records of `type`, blocking (see the
    /// type's documentation). Returns the answer records of that type (empty: NODATA).
    public func query(_ name: String, type: DNSRecordType) throws(DNSLookupError) -> [DNSResourceRecord] {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= Int(NS_MAXDNAME) - 1, !bytes.contains(0) else {
            throw DNSLookupError(.invalidName, name: name, type: type)
        }
        var answer = [UInt8](repeating: 0, count: Self.answerBufferSize)
        pthread_mutex_lock(mutex)
        let length = res_nquery(state, name, Int32(ns_c_in.rawValue), Int32(type.rawValue), &answer, Int32(answer.count))
        let herrno = state.pointee.res_h_errno
        pthread_mutex_unlock(mutex)
        guard length >= 0 else {
            switch herrno {
            case HOST_NOT_FOUND: throw DNSLookupError(.nameNotFound, name: name, type: type)
            case NO_DATA: return []
            case NO_RECOVERY: throw DNSLookupError(.serverFailure, name: name, type: type)
            default: throw DNSLookupError(.temporaryFailure, name: name, type: type)
            }
        }
        // res_nquery returns the full length even when it had to truncate the answer to the buffer.
        let used = min(Int(length), answer.count)
        answer.removeSubrange(used...)
        let message: DNSMessage
        do throws(DNSLookupError) {
            message = try DNSMessage.parse(answer)
        } catch {
            throw DNSLookupError(.malformedAnswer, name: name, type: type, detail: error.detail)
        }
        return message.answers.filter { $0.data.type == type }
    }
}
