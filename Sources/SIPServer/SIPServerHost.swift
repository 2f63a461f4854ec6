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
    /// Saves are at most this often (write-back like Kamailio's usrloc timer; SIGTERM saves at once).
    public var saveInterval: Duration = .seconds(2)
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
                                   local: endpoint.localAddresses, recordRoute: configuration.recordRoute)
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
        statefulProxy?.routing.local = endpoint.localAddresses
        statelessProxy?.routing.local = endpoint.localAddresses
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
