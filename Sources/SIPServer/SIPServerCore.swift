import SIPCore
import SIPAuth
import SIPTransaction
import SIPEndpoint
import Config

/// The server roles on one signalling thread (issue 5): the registrar in every mode, the redirect
/// server in `redirect` mode; proxying comes with the client transactions.
///
///     var core = SIPServerCore(configuration: server, store: loaded, nonceSecret: secret)
///     endpoint.transactionUser = { request in
///         core.decide(request, source: …, now: now, wallClock: wall) ?? responder.decide(request)
///     }
///     // periodically: core.registrar.store.sweep(now:), and save when `store.revision` changed
public struct SIPServerCore: Sendable {
    public let mode: ServerMode
    public var registrar: Registrar
    public let redirect: RedirectServer

    /// - Parameters:
    ///   - configuration: the validated `server` section (its `mode` is one of `ServerMode`'s).
    ///   - store: the loaded location store (`LocationStore.loadRecovering`), or an empty one.
    public init(configuration: ServerConfiguration, store: LocationStore = LocationStore(), nonceSecret: [UInt8],
                random: DigestRandomSource = .system) {
        mode = ServerMode(configValue: configuration.mode) ?? .statefulProxy
        let registrarConfiguration = Registrar.Configuration(configuration)
        registrar = Registrar(configuration: registrarConfiguration, store: store, nonceSecret: nonceSecret, random: random)
        redirect = RedirectServer(domains: registrarConfiguration.domains, users: registrarConfiguration.users)
    }

    /// The decision for a request the server roles answer, or nil for one they leave to others:
    /// REGISTERs for foreign domains and, in proxy modes, requests to forward (the proxy's job);
    /// requests to the server itself (no user part: OPTIONS pings) in every mode.
    public mutating func decide(_ request: SIPMessage, source: RegistrationSource?, now: Instant, wallClock: Duration)
        -> StatelessResponder.Decision? {
        guard let line = request.requestLine else { return nil }
        if line.method == .register {
            guard registrar.serves(line.uri) else { return nil }
            return registrar.decide(request, source: source, now: now, wallClock: wallClock)
        }
        if mode == .redirect, redirect.handles(request) {
            return redirect.decide(request, store: registrar.store, now: now)
        }
        return nil
    }
}
