#if canImport(Glibc)
import Glibc
#endif
import SIPCore
import SIPAuth
import SIPTransaction
import SIPTransport
import SIPEndpoint
import Config

/// Runs the server roles on an endpoint (what `dialtoned` does with a `server` section): the
/// registrar and redirect server (`SIPServerCore`), the stateful or stateless proxy by `mode`, the
/// location store loaded at start, swept and saved atomically while running and at shutdown.
///
///     let host = SIPServerHost(configuration: server, endpoint: endpoint, log: log)
///     endpoint.run(signals: signals)
///     host.shutdown()
///
/// Every callback runs on the endpoint's signalling thread.
public final class SIPServerHost {
    public private(set) var core: SIPServerCore
    public let configuration: ServerConfiguration
    public let statefulProxy: StatefulProxy?
    public private(set) var statelessProxy: StatelessProxy?
    unowned let endpoint: SIPEndpoint
    let log: (String) -> Void
    /// The endpoint's own transaction user, for what the roles leave (OPTIONS to the server, …).
    private let fallback: SIPEndpoint.TransactionUser
    private var savedRevision: UInt64
    private var lastSave: Instant
    private var lastSweep: Instant
    /// Saves are at most this often (write-back like Kamailio's usrloc timer, which is 60 s; SIGTERM
    /// saves at once): a busy registrar must not rewrite the whole file, and the router's flash,
    /// every few seconds. A crash loses at most this much; phones register again anyway.
    public var saveInterval: Duration = .seconds(10)
    public var sweepInterval: Duration = .seconds(5)

    /// Loads the store (a corrupt file is kept aside and logged) and takes over the endpoint's
    /// transaction user and hooks. Bind the endpoint first: the proxy's Record-Route names its
    /// listening addresses.
    public init(configuration: ServerConfiguration, endpoint: SIPEndpoint, nonceSecret: [UInt8]? = nil,
                log: @escaping (String) -> Void) {
        self.configuration = configuration
        self.endpoint = endpoint
        self.log = log
        let now = SIPServerClock.now()
        var store = LocationStore(limits: LocationStore.Limits(configuration.registrar))
        if let path = configuration.registrar.store {
            let (loaded, problem) = LocationStore.loadRecovering(from: path, limits: store.limits, now: now,
                                                                 wallClock: SIPServerClock.wallClock())
            if let problem { log("location store: \(problem)") }
            store = loaded
            log("location store: \(store.count) bindings loaded from \(path)")
        }
        var secret = nonceSecret ?? []
        if secret.isEmpty {
            var rng = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        core = SIPServerCore(configuration: configuration, store: store, nonceSecret: secret)
        savedRevision = store.revision
        lastSave = now
        lastSweep = now
        fallback = endpoint.transactionUser
        let routing = ProxyRouting(domains: core.registrar.configuration.domains, users: core.registrar.configuration.users,
                                   local: Self.localAddresses(endpoint), recordRoute: configuration.recordRoute)
        switch core.mode {
        case .statefulProxy:
            statefulProxy = StatefulProxy(routing: routing, endpoint: endpoint)
            statelessProxy = StatelessProxy(routing: routing)  // responses to no context (§16.7)
        case .statelessProxy:
            statefulProxy = nil
            statelessProxy = StatelessProxy(routing: routing)
        case .redirect:
            statefulProxy = nil
            statelessProxy = nil
        }
        install()
    }

    /// The endpoint's listening addresses, each wildcard one (0.0.0.0, ::) followed by the host's
    /// interface addresses of its family at its port and transport (getifaddrs): what "this proxy"
    /// means in a Route, Via or Request-URI.
    static func localAddresses(_ endpoint: SIPEndpoint) -> [(transport: TransportKind, address: SocketAddress)] {
        var result: [(transport: TransportKind, address: SocketAddress)] = []
        let interfaces = interfaceHosts()
        for l in endpoint.localAddresses {
            result.append(l)
            guard l.address.host == "0.0.0.0" || l.address.host == "::" else { continue }
            for host in interfaces where host.contains(":") == l.address.isIPv6 {
                if let a = SocketAddress(host: host, port: l.address.port) { result.append((l.transport, a)) }
            }
        }
        return result
    }

    /// Numeric addresses of the host's interfaces (IPv4 and IPv6, link-local scope ids dropped).
    static func interfaceHosts() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var hosts: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        var guardCount = 0
        while let entry = cursor, guardCount < 4096 {
            guardCount += 1
            cursor = entry.pointee.ifa_next
            guard let sa = entry.pointee.ifa_addr else { continue }
            let family = Int32(sa.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(sa, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            var host = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let percent = host.firstIndex(of: "%") { host = String(host[..<percent]) }
            if !hosts.contains(host) { hosts.append(host) }
        }
        return hosts
    }

    private func install() {
        endpoint.transactionUser = { [unowned self] request in self.decide(request) }
        endpoint.ackHandler = { [unowned self] ack in self.ack(ack) }
        endpoint.cancelHandler = { [unowned self] invite in self.statefulProxy?.cancel(invite: invite) ?? false }
        endpoint.strayResponseHandler = { [unowned self] response in
            self.statelessProxy?.forwardResponse(response, endpoint: self.endpoint) ?? false
        }
        endpoint.onTick = { [unowned self] in self.tick() }
    }

    /// The listening addresses changed (a reload rebound the endpoint): Record-Route follows.
    public func endpointRebound() {
        statefulProxy?.routing.local = Self.localAddresses(endpoint)
        statelessProxy?.routing.local = Self.localAddresses(endpoint)
    }

    private func decide(_ request: SIPMessage) -> StatelessResponder.Decision {
        let now = SIPServerClock.now()
        let source = endpoint.currentRequestSource
        let registrationSource = source.map {
            RegistrationSource(transport: $0.transport.viaToken, host: $0.address.host, port: $0.address.port)
        }
        if let d = core.decide(request, source: registrationSource, now: now, wallClock: SIPServerClock.wallClock()) { return d }
        let transport = source?.transport ?? .udp
        switch core.mode {
        case .statefulProxy:
            if let d = statefulProxy?.decide(request, store: core.registrar.store, now: now, arrivedOver: transport) { return d }
        case .statelessProxy:
            if let d = statelessProxy?.decide(request, store: core.registrar.store, now: now, endpoint: endpoint,
                                              arrivedOver: transport) { return d }
        case .redirect:
            break
        }
        return fallback(request)
    }

    private func ack(_ ack: SIPMessage) {
        switch core.mode {
        case .statefulProxy:
            statefulProxy?.forwardACK(ack)
        case .statelessProxy:
            _ = statelessProxy?.decide(ack, store: core.registrar.store, now: SIPServerClock.now(), endpoint: endpoint,
                                       arrivedOver: endpoint.currentRequestSource?.transport ?? .udp)
        case .redirect:
            break
        }
    }

    private func tick() {
        let now = SIPServerClock.now()
        statefulProxy?.tick(now: now)
        if now.duration(since: lastSweep) >= sweepInterval {
            lastSweep = now
            core.registrar.store.sweep(now: now)
        }
        if now.duration(since: lastSave) >= saveInterval { save(now: now) }
    }

    /// Saves the store if it changed since the last save (and has a file).
    public func save(now: Instant = SIPServerClock.now()) {
        lastSave = now
        guard let path = configuration.registrar.store, core.registrar.store.revision != savedRevision else { return }
        do {
            try core.registrar.store.save(to: path, now: now, wallClock: SIPServerClock.wallClock())
            savedRevision = core.registrar.store.revision
        } catch {
            log("location store: \(error)")
        }
    }

    /// Saves what is unsaved; call when the daemon stops.
    public func shutdown() {
        save()
    }
}
