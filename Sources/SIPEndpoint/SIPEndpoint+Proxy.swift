#if canImport(Glibc)
import Glibc
#endif
import SIPCore
import SIPTransaction
import SIPTransport

/// Where a request came from: the transport it arrived on and the packet's source (RFC 3261 §18.2.1).
public struct RequestSource: Sendable, Hashable, CustomStringConvertible {
    public var transport: TransportKind
    public var address: SocketAddress

    public init(transport: TransportKind, address: SocketAddress) {
        self.transport = transport
        self.address = address
    }

    init(_ origin: RequestOrigin) {
        switch origin {
        case .datagram(_, let from): self.init(transport: .udp, address: from)
        case .stream(let c): self.init(transport: c.transport, address: c.remote)
        }
    }

    public var description: String { "\(transport.rawValue):\(address)" }
}

/// Stateless forwarding for a proxy (RFC 3261 §16.11): a request sent once with a Via the caller's
/// branch names, and a response sent where its (new) top Via says, neither kept in any transaction.
extension SIPEndpoint {
    /// Sends `request` once, without a transaction, to `destination` (default: the top Route when it
    /// is a loose router, else the Request-URI), with a new top Via carrying `branch` (§16.11: derived
    /// from the request so that a retransmission takes the same branch). Only numeric destinations
    /// (an IP address in the URI or its maddr): a stateless element cannot wait for DNS. Returns nil
    /// when sent, else why not.
    @discardableResult
    public func sendStatelessly(_ request: SIPMessage, to destination: SIPURI? = nil, branch: String) -> String? {
        guard let uri = destination ?? Self.nextHop(of: request) else { return "no SIP or SIPS URI to send to" }
        let numeric: Bool
        if let maddr = uri.maddr { numeric = SocketAddress.isNumeric(maddr) } else { numeric = uri.host.isNumeric }
        guard numeric else { return "\(uri.host): a stateless proxy forwards to numeric addresses only" }
        var configuration = configuration.locator
        if tlsClientContext == nil { configuration.transports.removeAll { $0 == .tls } }
        if udpSockets.isEmpty { configuration.transports.removeAll { $0 == .udp } }
        var locator = SIPServerLocator(lookup: RefusingDNSLookup(), configuration: configuration)
        let cursor: SIPTargetCursor
        do throws(SIPResolutionError) {
            cursor = try locator.resolve(uri, now: 0)
        } catch {
            return error.description
        }
        guard let target = cursor.current else { return "no target for \(uri)" }
        let transport: ClientTransport
        let sentBy: SocketAddress
        switch openTransport(to: target) {
        case .failure(let failure): return failure.description
        case .success(let opened): (transport, sentBy) = opened
        }
        var message = request
        let via = ViaHandling.clientVia(transport: target.transport, local: sentBy, branch: branch)
        message.headers.prepend(.via, via.description)
        if !message.headers.contains(.maxForwards) { message.headers.append(.maxForwards, "70") }
        message.headers.set(.contentLength, String(message.body.count))
        let failure = send(message.serialized(), on: transport)
        closeIdleFlows(keeping: transport)
        return failure
    }

    /// Most UDP flows left open with no client transaction on them. `openTransport` opens a flow
    /// (a connected socket) per downstream address and only the end of a client transaction closes
    /// it, which a stateless send never has: past this many idle flows they are closed, so
    /// forwarding to many addresses cannot use up descriptors, while a few busy ones are reused.
    static let maxIdleFlows = 32

    private func closeIdleFlows(keeping transport: ClientTransport) {
        guard client.flows.count > Self.maxIdleFlows else { return }
        var keep: UDPFlow? = nil
        if case .datagram(_, _, let flow) = transport { keep = flow }
        let idle = client.flows.filter { $0.value.users <= 0 && $0.value !== keep }
        guard idle.count > Self.maxIdleFlows - 1 else { return }
        for key in idle.keys { client.flows[key] = nil }
    }

    /// Sends a response where its top Via routes it (§18.2.2, RFC 3581): the caller has removed its
    /// own Via already (§16.11). Over UDP from the bound socket of the address family; over TCP or TLS
    /// only on a connection already open to that address: a response that matched no transaction is
    /// anyone's to forge, and must not make this element dial connections wherever it says. False
    /// when it could not be sent.
    @discardableResult
    public func sendResponseStatelessly(_ response: SIPMessage) -> Bool {
        guard let via = try? response.topVia() else { return false }
        let bytes = response.serialized()
        switch ViaHandling.responseRoute(topVia: via, connectionOpen: false) {
        case .datagram(let host, let port, _):
            guard host.isNumeric, let address = SocketAddress(host: host.bare, port: port),
                  let socket = udpSockets.first(where: { $0.local.family == address.family }) else { return false }
            return socket.send(bytes, to: address)
        case .connect(let transport, let host, let port):
            guard let kind = TransportKind(viaToken: transport), kind != .udp, host.isNumeric,
                  let address = SocketAddress(host: host.bare, port: port) else { return false }
            let ms = MonotonicClock.milliseconds()
            guard let open = connections.values.first(where: { $0.transport == kind && $0.remote == address && !$0.isClosed }) else {
                return false
            }
            return open.send(bytes: bytes, now: ms).isEmpty && !open.isClosed
        case .sameConnection:
            return false
        }
    }
}
