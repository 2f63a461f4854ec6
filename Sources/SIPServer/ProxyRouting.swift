import SIPCore
import SIPTransaction
import SIPTransport

/// What both proxies do to a request before forwarding it (RFC 3261 §16.3–§16.6), pure: validation
/// (483, 420, 482), Route preprocessing (loose routing, and the strict-router fix of §16.4), the
/// target set from the location service (§16.5) grouped by q for sequential forking, and the copy
/// for each target (§16.6: Request-URI, Max-Forwards, Record-Route, Path as Route, the registered
/// flow as destination).
public struct ProxyRouting: Sendable {
    /// One place a request is forwarded to.
    public struct Target: Sendable, Equatable {
        /// The new Request-URI (the contact, or the Request-URI unchanged).
        public var requestURI: URI
        /// Where to send it, when not its next hop (top Route, else Request-URI): the flow the
        /// contact registered from, for a phone behind NAT (RFC 3261 §18.2.1, RFC 5626 style).
        public var destination: SIPURI?
        /// Route values to put on top (the binding's Path, RFC 3327 §5.3).
        public var routes: [NameAddress]

        public init(requestURI: URI, destination: SIPURI? = nil, routes: [NameAddress] = []) {
            self.requestURI = requestURI
            self.destination = destination
            self.routes = routes
        }
    }

    /// The outcome of §16.3–§16.5 for one request.
    public enum Outcome: Sendable {
        /// Answer it (483, 482, 420, 404, 480, 416, …).
        case reject(status: Int, reason: String?, headers: [HeaderField])
        /// Drop it silently (the validator's verdict).
        case drop(String)
        /// Addressed to this element (no user, one of our names, no Route left): not forwarded.
        case local
        /// Forward the preprocessed `request` to the targets: each inner array is a parallel group,
        /// the groups are tried in order (§16.6: decreasing q).
        case forward(request: SIPMessage, groups: [[Target]], loopHash: String)
    }

    public var domains: ServedDomains
    public var users: Set<String>
    /// The addresses we listen on (Record-Route, and recognising our own Route/Via/Request-URI). A
    /// wildcard listener (0.0.0.0, ::) comes with one entry per interface address after it: the
    /// wildcard itself matches no host.
    public var local: [(transport: TransportKind, address: SocketAddress)]
    public var recordRoute: Bool
    public let policy = SIPValidationPolicy(role: .proxy)

    public init(domains: ServedDomains, users: Set<String>, local: [(transport: TransportKind, address: SocketAddress)],
                recordRoute: Bool) {
        self.domains = domains
        self.users = users
        self.local = local
        self.recordRoute = recordRoute
    }

    // MARK: §16.3–§16.5

    /// Validates, preprocesses Route and finds the targets for `request` (not ACK or CANCEL: those
    /// follow their INVITE).
    public func route(_ request: SIPMessage, store: LocationStore, now: Instant) -> Outcome {
        switch SIPValidator.validate(request, policy: policy) {
        case .drop(let why): return .drop(why)
        case .reject(let r): return .reject(status: r.status, reason: r.reason, headers: r.headers)
        case .accept: break
        }
        let hash = Self.loopHash(request)
        // §16.3 step 4: our own Via with this request's hash means it came back unchanged: a loop.
        // A spiral (the Request-URI or Route changed in between) hashes differently.
        if let vias = try? request.vias() {
            let marker = Via.magicCookie + "-" + hash + "."
            for via in vias where isLocal(host: via.host, port: via.port, transport: TransportKind(viaToken: via.transport)) {
                if via.branch?.hasPrefix(marker) == true { return .reject(status: 482, reason: "Loop Detected", headers: []) }
            }
        }
        var message = request
        preprocessRoutes(&message)
        guard let line = message.requestLine else { return .drop("not a request") }
        if message.headers.contains(.route) {
            return .forward(request: message, groups: [[Target(requestURI: line.uri)]], loopHash: hash)
        }
        guard case .sip(let uri) = line.uri else {
            return .reject(status: 416, reason: "Unsupported URI Scheme", headers: [])
        }
        let servedHere = domains.contains(uri.host) && (uri.port == nil || isLocalPort(uri.port!))
        if servedHere || isLocal(uri) {
            guard uri.user != nil, servedHere else { return .local }
            guard let aor = AddressOfRecord(line.uri) else { return .reject(status: 404, reason: "Not Found", headers: []) }
            var bindings = store.lookup(aor, now: now)
            if bindings.isEmpty {
                // §19.1.4 makes `sip:bob@d` and `sip:bob@d:PORT` different AORs, but with PORT one we
                // listen on both name the same user here (as in Kamailio's usrloc): try the other form.
                var other = uri
                let ports: [UInt16?] = uri.port == nil ? Set(local.map { $0.address.port }).sorted() : [nil]
                for port in ports where bindings.isEmpty {
                    other.port = port
                    bindings = store.lookup(AddressOfRecord(other), now: now)
                }
            }
            if bindings.isEmpty {
                return users.contains(aor.user ?? "")
                    ? .reject(status: 480, reason: "Temporarily Unavailable", headers: [])
                    : .reject(status: 404, reason: "Not Found", headers: [])
            }
            return .forward(request: message, groups: Self.groups(bindings), loopHash: hash)
        }
        return .forward(request: message, groups: [[Target(requestURI: line.uri)]], loopHash: hash)
    }

    /// §16.4: a Request-URI that is ours was put there by a strict router (the previous hop): the
    /// last Route is the real one. Then our own top Route (we record-routed; two when the request
    /// changed transport between them) comes off.
    public func preprocessRoutes(_ message: inout SIPMessage) {
        if case .sip(let uri)? = message.requestLine?.uri, isLocal(uri), uri.user == nil,
           let routes = try? message.routes(), let last = routes.last {
            message.startLine = .request(RequestLine(method: message.requestLine!.method, uri: last.uri))
            message.headers.removeLastListValue(.route)
        }
        for _ in 0..<2 {
            guard let routes = try? message.routes(), let top = routes.first, case .sip(let uri) = top.uri, isLocal(uri) else { break }
            message.headers.removeFirstListValue(.route)
        }
    }

    /// The bindings as forking groups: equal q together, highest q first (§16.6, RFC 3261 §16.6
    /// "decreasing order of q").
    static func groups(_ bindings: [Binding]) -> [[Target]] {
        let sorted = bindings.sorted { $0.effectiveQThousandths > $1.effectiveQThousandths }
        var groups: [[Target]] = []
        var lastQ: Int? = nil
        for b in sorted {
            let t = target(for: b)
            if b.effectiveQThousandths == lastQ { groups[groups.count - 1].append(t) } else { groups.append([t]) }
            lastQ = b.effectiveQThousandths
        }
        return groups
    }

    /// A binding as a target: the contact as Request-URI; Path as Route (RFC 3327); without Path, the
    /// flow it registered from when that differs from the contact's address (NAT).
    static func target(for b: Binding) -> Target {
        var t = Target(requestURI: b.contact.uri, routes: b.path)
        if b.path.isEmpty, b.reachThroughSource, let source = b.source, case .sip(let contact) = b.contact.uri {
            let contactPort = contact.port ?? (contact.isSecure || contact.transport == "tls" ? 5061 : 5060)
            if contact.host.bare.lowercased() != source.host.lowercased() || contactPort != source.port {
                let host: Host = source.host.contains(":") ? .ipv6(source.host) : .ipv4(source.host)
                var params: [Parameter] = []
                if source.transport != "UDP" { params.append(Parameter("transport", source.transport.lowercased())) }
                t.destination = SIPURI(isSecure: false, host: host, port: source.port, parameters: params)
            }
        }
        return t
    }

    // MARK: §16.6

    /// The copy of `request` (preprocessed) for `target`: Request-URI, Route (Path), Max-Forwards
    /// decremented (70 when absent), Record-Route when configured and the request can start a dialog.
    public func forwardedCopy(of request: SIPMessage, to target: Target, arrivedOver transport: TransportKind) -> SIPMessage {
        var m = request
        if let line = m.requestLine { m.startLine = .request(RequestLine(method: line.method, uri: target.requestURI)) }
        for r in target.routes.reversed() { m.headers.prepend(.route, r.description) }
        let mf = (try? m.maxForwards()) ?? nil
        m.headers.set(.maxForwards, String(max(0, (mf ?? 71) - 1)))
        if recordRoute, let rr = recordRouteValue(for: transport), Self.startsDialog(m) {
            m.headers.prepend(.recordRoute, rr)
        }
        return m
    }

    /// Whether a request can establish a dialog (no To tag; INVITE, SUBSCRIBE, REFER, NOTIFY).
    static func startsDialog(_ m: SIPMessage) -> Bool {
        guard let method = m.method, [.invite, .subscribe, .refer, .notify].contains(method) else { return false }
        return (try? m.to())?.tag == nil
    }

    /// `<sip:ADDRESS:PORT;transport=…;lr>` for the listening address of the transport the request
    /// arrived over (a wildcard address is replaced by the first served domain).
    public func recordRouteValue(for transport: TransportKind) -> String? {
        guard let l = local.first(where: { $0.transport == transport }) ?? local.first else { return nil }
        var host = l.address.host
        if host == "0.0.0.0" || host == "::", let d = domains.hosts.first { host = d }
        let h = host.contains(":") ? "[\(host)]" : host
        let t = l.transport == .udp ? "" : ";transport=" + l.transport.rawValue
        return "<sip:\(h):\(l.address.port)\(t);lr>"
    }

    // MARK: Recognising ourselves

    /// Whether a URI names this element: one of our listening addresses (or a served domain) at one
    /// of our ports.
    public func isLocal(_ uri: SIPURI) -> Bool {
        let transport: TransportKind? = uri.transport.flatMap { TransportKind(rawValue: $0) } ?? (uri.isSecure ? .tls : nil)
        return isLocal(host: uri.host, port: uri.port, transport: transport)
    }

    func isLocal(host: Host, port: UInt16?, transport: TransportKind?) -> Bool {
        let p = port ?? (transport == .tls ? 5061 : 5060)
        let bare = host.bare.lowercased()
        for l in local where l.address.port == p && (transport == nil || l.transport == transport || (transport != .udp && l.transport != .udp)) {
            // A wildcard listener names no host: the host's own addresses are listed beside it
            // (`SIPServerHost.localAddresses`), and only those are us, never "any host at our port".
            if l.address.host.lowercased() == bare { return true }
        }
        return domains.contains(host) && isLocalPort(p)
    }

    func isLocalPort(_ port: UInt16) -> Bool { local.contains { $0.address.port == port } }

    /// §16.6 step 8: the part of the branch that says "this request, unchanged", from the values
    /// that identify it here (Request-URI, From and To tags, Call-ID, CSeq number, Route,
    /// Proxy-Require, Proxy-Authorization), as 16 hex digits (FNV-1a 64).
    public static func loopHash(_ request: SIPMessage) -> String {
        var h = FNV1a()
        h.add(request.requestLine?.uri.description ?? "")
        h.add((try? request.from())?.tag ?? "")
        h.add((try? request.to())?.tag ?? "")
        h.add((try? request.callID()) ?? "")
        h.add(String((try? request.cseq())?.sequence ?? 0))
        for name in [HeaderName.route, .proxyRequire, .proxyAuthorization] {
            for v in request.headers.values(name) { h.add(v) }
        }
        return h.hex
    }
}

/// FNV-1a, 64 bits: a stable hash (Swift's `Hasher` is seeded per process) for branch values.
struct FNV1a {
    var state: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ text: String) {
        for b in text.utf8 { state = (state ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        state = (state ^ 0xFF) &* 0x0000_0100_0000_01B3
    }

    var hex: String {
        let s = String(state, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
