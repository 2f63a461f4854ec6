// NetMonitor: WAN link and address changes through rtnetlink (libnl-route-3).
#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// Watches the kernel's routing netlink notifications (links, IPv4/IPv6 addresses, IPv4/IPv6
/// routes) so the user agent can register again at once when the WAN link or address changes.
///
/// It has no thread of its own: poll `fileDescriptor` for POLLIN in the signalling thread's poll
/// loop and call `readEvents()` whenever it reports anything (POLLERR included: an overrun is
/// signalled that way), then feed the changes to a `WANChangeFilter`. Not thread-safe; use it from
/// one thread.
///
/// ```swift
/// let monitor = try NetMonitor()
/// var filter = WANChangeFilter()
/// // in the poll loop, when monitor.fileDescriptor is readable:
/// filter.note(monitor.readEvents(), now: seconds)
/// // on every turn (and as a poll timeout: filter.nextDeadline):
/// if filter.take(now: seconds) { reRegisterAll() }
/// ```
///
/// IPv4 does not announce the routes it flushes when an address or link goes away (only the
/// address or link change is announced), so a lost default route shows up as `.addressRemoved` or
/// `.linkDown`, not always as `.defaultRouteChanged`. `snapshot()` tells what is left.
public final class NetMonitor {
    /// The namespace under /var/run/netns the socket was created in; nil for the caller's own.
    public let namespace: String?
    /// Whether loopback interfaces (IFF_LOOPBACK) and their addresses are left out.
    public let ignoreLoopback: Bool
    /// How many times notifications were lost (ENOBUFS or a truncated message) and `.resynchronised`
    /// was reported.
    public private(set) var overruns = 0

    private let netns: NamespaceHandle?
    /// `struct nl_sock *`, connected, non-blocking, joined to the groups below.
    private let socket: OpaquePointer
    private var tracker: ChangeTracker
    private var buffer: [UInt8]
    private let sink = MessageSink()

    /// The multicast groups joined: link state, addresses of both families, routes of both families.
    static let groups: [rtnetlink_groups] = [
        RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
    ]
    /// Receive buffer for one datagram. The kernel sends one message per notification; a link
    /// message with every attribute is a few kilobytes, so 64 KiB never truncates in practice (a
    /// truncated message is treated as a loss).
    static let datagramBufferSize = 65_536
    /// Most datagrams read by one `readEvents()` call; the rest stay queued (the descriptor stays
    /// readable), so one call never runs unbounded.
    static let maximumDatagramsPerRead = 16_384

    /// Opens the monitor.
    ///
    /// - Parameters:
    ///   - namespace: a network namespace name under /var/run/netns (`ip netns add NAME`): the sockets
    ///     are created inside it by a short-lived thread, and events of that namespace only are seen.
    ///     nil: the calling thread's namespace (`dialtoned` runs under `ip netns exec` when it needs
    ///     another one).
    ///   - ignoreLoopback: leave out loopback interfaces and their addresses.
    ///   - receiveBufferSize: the socket's receive buffer (SO_RCVBUFFORCE when privileged, else
    ///     SO_RCVBUF, capped by net.core.rmem_max): room for bursts of notifications before they are
    ///     read. An overrun costs a `.resynchronised`, never a wrong state.
    public init(namespace: String? = nil, ignoreLoopback: Bool = true, receiveBufferSize: Int = 1 << 20) throws(NetMonitorError) {
        self.namespace = namespace
        self.ignoreLoopback = ignoreLoopback
        netns = try namespace.map { (name) throws(NetMonitorError) in try NamespaceHandle(name: name) }
        let size = Int32(clamping: max(receiveBufferSize, 4096))
        let opened: Result<OpaquePointer, NetMonitorError>
        if let netns {
            opened = try netns.run { Self.openEventSocket(receiveBufferSize: size) }
        } else {
            opened = Self.openEventSocket(receiveBufferSize: size)
        }
        socket = try opened.get()
        tracker = ChangeTracker(ignoreLoopback: ignoreLoopback)
        buffer = [UInt8](repeating: 0, count: Self.datagramBufferSize)
        // Seed after joining the groups, so nothing falls between the dump and the first event. (Every
        // stored property is set: if this throws, deinit runs and frees the socket.)
        tracker.reset(with: try dump(links: true, addresses: true, routes: false))
    }

    deinit {
        nl_socket_free(socket)  // closes the descriptor
    }

    /// The netlink socket's descriptor: poll it for POLLIN, then call `readEvents()`.
    public var fileDescriptor: Int32 { nl_socket_get_fd(socket) }

    /// Reads every notification queued now, without blocking (at most `maximumDatagramsPerRead`),
    /// and returns the changes among them, in order. After lost notifications it returns
    /// `[.resynchronised]` alone, having re-read the links and addresses.
    public func readEvents() -> [NetworkChange] {
        let fd = fileDescriptor
        var changes: [NetworkChange] = []
        var lost = false
        for _ in 0..<Self.maximumDatagramsPerRead {
            var from = sockaddr_nl()
            var fromLength = socklen_t(MemoryLayout<sockaddr_nl>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &from) { address in
                    address.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                        // MSG_TRUNC: the full length is returned even when it did not fit.
                        recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC), generic, &fromLength)
                    }
                }
            }
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == ENOBUFS { lost = true; continue }
                break  // EAGAIN: drained (anything else: nothing more to read now either)
            }
            if count > buffer.count { lost = true; continue }
            // Only the kernel (port 0) speaks for the routing tables.
            guard from.nl_pid == 0, !lost else { continue }
            for message in parse(count: count) {
                if let change = tracker.apply(message) { changes.append(change) }
            }
        }
        guard lost else { return changes }
        overruns += 1
        if let messages = try? dump(links: true, addresses: true, routes: false) {
            tracker.reset(with: messages)
        }
        return [.resynchronised]
    }

    /// Polls for up to `timeout` seconds (0…3600) until some change arrives, and returns it (or
    /// nothing at the deadline). Queued changes are returned without waiting.
    public func waitForEvents(timeout: Double) -> [NetworkChange] {
        let limit = timeout.isFinite ? min(max(timeout, 0), 3600) : 0
        let deadline = monotonicSeconds() + limit
        for _ in 0..<100_000 {
            let changes = readEvents()
            if !changes.isEmpty { return changes }
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 { return [] }
            var entry = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, Int32(min((remaining * 1000).rounded(.up), 3_600_000)))
        }
        return []
    }

    /// The current usable addresses of non-loopback interfaces and the families with a default
    /// route, read by a dump on a separate, short-lived socket in the monitor's namespace. When the
    /// dump fails the snapshot is empty with `isComplete` false (`loadSnapshot()` throws instead).
    public func snapshot() -> NetworkSnapshot {
        do {
            return try loadSnapshot()
        } catch {
            return NetworkSnapshot(isComplete: false, failure: error.description)
        }
    }

    /// `snapshot()`, throwing when the dump fails.
    public func loadSnapshot() throws(NetMonitorError) -> NetworkSnapshot {
        let messages = try dump(links: true, addresses: true, routes: true)
        var table = ChangeTracker(ignoreLoopback: true)
        table.reset(with: messages)
        var families = Set<IPFamily>()
        for case .route(let route) in messages where !route.deleted && table.isDefaultRoute(route) {
            families.insert(route.family)
        }
        let addresses = table.addresses.map { key in
            InterfaceAddress(interface: table.links[key.index]?.name ?? "", index: key.index,
                             address: key.address, prefixLength: key.prefixLength)
        }.sorted { a, b in
            if a.index != b.index { return a.index < b.index }
            if a.address.family != b.address.family { return a.address.family == .ipv4 }
            if a.address.text != b.address.text { return a.address.text < b.address.text }
            return a.prefixLength < b.prefixLength
        }
        return NetworkSnapshot(addresses: addresses, defaultRouteFamilies: families)
    }

    // MARK: Internals

    /// The rtnetlink messages in the first `count` octets of `buffer`, parsed by libnl. Malformed
    /// framing ends the datagram; messages libnl cannot parse are skipped.
    private func parse(count: Int) -> [RouteMessage] {
        sink.messages.removeAll(keepingCapacity: true)
        let headerSize = MemoryLayout<nlmsghdr>.size
        let argument = Unmanaged.passUnretained(sink).toOpaque()
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            for _ in 0..<count {  // each pass consumes at least one header
                guard count - offset >= headerSize else { break }
                let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let type = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                guard length >= headerSize, length <= count - offset else { break }
                if Self.handledTypes.contains(type) {
                    let start = (base + offset).assumingMemoryBound(to: UInt8.self)
                    start.withMemoryRebound(to: nlmsghdr.self, capacity: 1) { header in
                        guard let message = nlmsg_convert(header) else { return }
                        nlmsg_set_proto(message, NETLINK_ROUTE)
                        _ = nl_msg_parse(message, { object, argument in
                            guard let object, let argument else { return }
                            let sink = Unmanaged<MessageSink>.fromOpaque(argument).takeUnretainedValue()
                            if let parsed = RouteMessage(object: object) { sink.messages.append(parsed) }
                        }, argument)
                        nlmsg_free(message)
                    }
                }
                // NLMSG_ALIGN: messages start on 4-octet boundaries.
                offset += (length + 3) & ~3
            }
        }
        return sink.messages
    }

    private static let handledTypes: Set<UInt16> = [
        UInt16(RTM_NEWLINK), UInt16(RTM_DELLINK), UInt16(RTM_NEWADDR), UInt16(RTM_DELADDR),
        UInt16(RTM_NEWROUTE), UInt16(RTM_DELROUTE),
    ]

    /// Dumps the requested tables on a fresh socket in the monitor's namespace.
    private func dump(links: Bool, addresses: Bool, routes: Bool) throws(NetMonitorError) -> [RouteMessage] {
        let result: Result<[RouteMessage], NetMonitorError>
        if let netns {
            result = try netns.run { Self.dump(links: links, addresses: addresses, routes: routes) }
        } else {
            result = Self.dump(links: links, addresses: addresses, routes: routes)
        }
        return try result.get()
    }

    /// Creates the notification socket in the calling thread's namespace.
    private static func openEventSocket(receiveBufferSize: Int32) -> Result<OpaquePointer, NetMonitorError> {
        guard let socket = nl_socket_alloc() else { return .failure(NetMonitorError(.socket, "nl_socket_alloc failed")) }
        // Notifications carry no sequence number of ours.
        nl_socket_disable_seq_check(socket)
        let rc = nl_connect(socket, NETLINK_ROUTE)
        guard rc == 0 else {
            nl_socket_free(socket)
            return .failure(NetMonitorError.libnl(.socket, "nl_connect", rc))
        }
        let fd = nl_socket_get_fd(socket)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var size = receiveBufferSize
        let length = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, length) != 0 {
            size = receiveBufferSize
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
        }
        var failure: NetMonitorError?
        let nonblocking = nl_socket_set_nonblocking(socket)
        if nonblocking < 0 { failure = NetMonitorError.libnl(.socket, "nl_socket_set_nonblocking", nonblocking) }
        for group in groups where failure == nil {
            let joined = nl_socket_add_membership(socket, Int32(group.rawValue))
            if joined < 0 { failure = NetMonitorError.libnl(.socket, "nl_socket_add_membership \(group.rawValue)", joined) }
        }
        if let failure {
            nl_socket_free(socket)
            return .failure(failure)
        }
        return .success(socket)
    }

    /// Dumps the requested tables through libnl caches on a short-lived socket created in the calling
    /// thread's namespace. A dump the kernel marks inconsistent (NLE_DUMP_INTR: the table changed
    /// during it) is repeated, up to three times.
    private static func dump(links: Bool, addresses: Bool, routes: Bool) -> Result<[RouteMessage], NetMonitorError> {
        guard let socket = nl_socket_alloc() else { return .failure(NetMonitorError(.dump, "nl_socket_alloc failed")) }
        defer { nl_socket_free(socket) }
        let rc = nl_connect(socket, NETLINK_ROUTE)
        guard rc == 0 else { return .failure(NetMonitorError.libnl(.dump, "nl_connect", rc)) }
        // The kernel answers at once; a bound on the wait all the same.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(nl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var messages: [RouteMessage] = []
        func collect(_ name: String, _ fill: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) -> NetMonitorError? {
            var last: Int32 = 0
            for _ in 0..<3 {
                var cache: OpaquePointer?
                last = fill(&cache)
                if last == 0, let cache {
                    var object = nl_cache_get_first(cache)
                    while let current = object {
                        if let parsed = RouteMessage(object: current) { messages.append(parsed) }
                        object = nl_cache_get_next(current)
                    }
                    nl_cache_free(cache)
                    return nil
                }
                if let cache { nl_cache_free(cache) }
                if last != -NLE_DUMP_INTR { break }
            }
            return NetMonitorError.libnl(.dump, name, last)
        }
        if links, let error = collect("rtnl_link_alloc_cache", { rtnl_link_alloc_cache(socket, AF_UNSPEC, $0) }) {
            return .failure(error)
        }
        if addresses, let error = collect("rtnl_addr_alloc_cache", { rtnl_addr_alloc_cache(socket, $0) }) {
            return .failure(error)
        }
        if routes, let error = collect("rtnl_route_alloc_cache", { rtnl_route_alloc_cache(socket, AF_UNSPEC, 0, $0) }) {
            return .failure(error)
        }
        return .success(messages)
    }
}

/// Where libnl's parse callback leaves what it read (passed to it as an unretained pointer).
private final class MessageSink {
    var messages: [RouteMessage] = []
}

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
