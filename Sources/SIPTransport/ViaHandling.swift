import SIPCore

/// Where a server sends a response (RFC 3261 §18.2.2, RFC 3581 §4).
public enum ResponseRoute: Equatable, Sendable {
    /// Back on the connection the request arrived on.
    case sameConnection
    /// Open a connection (reliable transport whose connection is gone). A `.name` host is resolved
    /// per RFC 3263 §5.
    case connect(transport: String, host: Host, port: UInt16)
    /// A datagram to this address and port (a `.name` host is resolved per RFC 3263 §5); `ttl` is
    /// set when the Via's maddr (multicast) applies.
    case datagram(host: Host, port: UInt16, ttl: UInt8?)
}

/// Via handling for the transport layer (pure functions).
public enum ViaHandling {
    /// The top Via of a request as a server records it (RFC 3261 §18.2.1, RFC 3581 §4): `received`
    /// with the source address when the sent-by host differs from it, or always when the client asked
    /// for `rport`, which gets the source port. A hostname sent-by always differs.
    public static func stamped(_ via: Via, sourceHost: String, sourcePort: UInt16) -> Via {
        var v = via
        let source = SocketAddress.unbracketed(sourceHost)
        let rportRequested = via.rport != nil
        if rportRequested || !sameAddress(via.host, source) {
            if !v.parameters.has("received"), let i = v.parameters.firstIndex(where: { $0.name.lowercased() == "rport" }) {
                // RFC 3581's examples put received just before rport.
                v.parameters.insert(Parameter("received", source), at: i)
            } else {
                v.received = source
            }
        }
        if rportRequested { v.parameters.set("rport", String(sourcePort)) }
        return v
    }

    /// Stamps the top Via of a received request in place (§18.2.1); throws when it does not parse.
    /// Returns the stamped Via (what `request.topVia()` now parses to), so callers need not parse it again.
    @discardableResult
    public static func stampTopVia(of request: inout SIPMessage, sourceHost: String, sourcePort: UInt16) throws(SIPParseError) -> Via {
        let top = try request.topVia()
        let via = stamped(top, sourceHost: sourceHost, sourcePort: sourcePort)
        replaceTopVia(in: &request, with: via)
        return via
    }

    /// Replaces the topmost Via value, keeping the others (also those folded on the same line).
    public static func replaceTopVia(in message: inout SIPMessage, with via: Via) {
        guard let first = message.headers.firstIndex(of: .via) else {
            message.headers.prepend(.via, via.description)
            return
        }
        var text = via.description
        // Fast path: a field without a comma octet holds one value (unfolding only changes
        // whitespace), so there is nothing after the top value to keep and no text to scan.
        guard message.headers.valueBytes(at: first).contains(0x2C) else {
            message.headers.replaceValue(at: first, with: text)
            return
        }
        let line = message.headers.value(at: first)
        if let comma = topLevelComma(in: line) {
            text += ", " + String(line[line.index(after: comma)...]).drop(while: { $0 == " " || $0 == "\t" })
        }
        message.headers.replaceValue(at: first, with: text)
    }

    /// Where to send a response whose top Via is `topVia` (the request's, as stamped on arrival).
    /// `connectionOpen`: whether the connection the request came in on (reliable transports) is still
    /// open.
    public static func responseRoute(topVia via: Via, connectionOpen: Bool) -> ResponseRoute {
        let kind = TransportKind(viaToken: via.transport)
        let defaultPort = kind?.defaultPort ?? 5060
        let receivedHost = via.received.flatMap { hostValue($0) }
        if via.isReliable {
            if connectionOpen { return .sameConnection }
            // §18.2.2: to received (else sent-by), at the sent-by port or the transport's default.
            return .connect(transport: via.transport, host: receivedHost ?? via.host, port: via.port ?? defaultPort)
        }
        if let maddr = via.maddr, let host = hostValue(maddr) {
            let ttl = via.ttl.flatMap { UInt8($0) } ?? 1
            return .datagram(host: host, port: via.port ?? defaultPort, ttl: ttl)
        }
        if let receivedHost {
            // RFC 3581 §4: the rport value when present, else the sent-by port or the default.
            if case .some(.some(let rport)) = via.rport { return .datagram(host: receivedHost, port: rport, ttl: nil) }
            return .datagram(host: receivedHost, port: via.port ?? defaultPort, ttl: nil)
        }
        return .datagram(host: via.host, port: via.port ?? defaultPort, ttl: nil)
    }

    /// A client's Via for a request it sends (§18.1.1; RFC 3581 §3 `rport`): sent-by from the
    /// local address the message leaves from (or an advertised host), the transport's token, a branch.
    public static func clientVia(transport: TransportKind, sentByHost: String, sentByPort: UInt16?, branch: String,
                                 rport: Bool = true) -> Via {
        let bare = SocketAddress.unbracketed(sentByHost)
        let host: Host
        if bare.contains(":") {
            host = .ipv6(bare)
        } else if SocketAddress.isNumeric(bare) {
            host = .ipv4(bare)
        } else {
            host = .name(bare)
        }
        var parameters: [Parameter] = []
        if rport { parameters.append(Parameter("rport")) }
        parameters.append(Parameter("branch", branch))
        return Via(transport: transport.viaToken, host: host, port: sentByPort, parameters: parameters)
    }

    /// `clientVia` with the sent-by taken from a local socket address.
    public static func clientVia(transport: TransportKind, local: SocketAddress, branch: String, rport: Bool = true) -> Via {
        clientVia(transport: transport, sentByHost: local.host, sentByPort: local.port, branch: branch, rport: rport)
    }

    // MARK: Helpers

    /// Whether a Via host is the numeric address `address` (IPv6 compared in canonical form).
    static func sameAddress(_ host: Host, _ address: String) -> Bool {
        guard host.isNumeric else { return false }
        guard let a = SocketAddress(host: host.bare, port: 0), let b = SocketAddress(host: address, port: 0) else {
            return host.bare == address
        }
        return a == b
    }

    /// A Host for a `received` or `maddr` value (IPv6 given bare).
    static func hostValue(_ text: String) -> Host? {
        let bare = SocketAddress.unbracketed(text)
        if bare.contains(":") { return Host.parse("[" + bare + "]") }
        return Host.parse(bare)
    }

    /// The first comma outside quotes and angle brackets.
    static func topLevelComma(in line: String) -> String.Index? {
        var quoted = false, angle = false, escaped = false
        var i = line.startIndex
        while i < line.endIndex {
            let c = line[i]
            if escaped {
                escaped = false
            } else if quoted {
                if c == "\\" { escaped = true } else if c == "\"" { quoted = false }
            } else if c == "\"" {
                quoted = true
            } else if c == "<" {
                angle = true
            } else if c == ">" {
                angle = false
            } else if c == ",", !angle {
                return i
            }
            i = line.index(after: i)
        }
        return nil
    }
}
