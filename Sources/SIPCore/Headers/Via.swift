/// One Via value (RFC 3261 §20.42, §18.2.1; RFC 3581 rport):
/// `SIP / 2.0 / transport sent-by *( ; via-params )`.
public struct Via: Sendable, Hashable, CustomStringConvertible {
    public var protocolName: String
    public var protocolVersion: String
    /// Upper-cased transport token (UDP, TCP, TLS, SCTP, WS, or an unknown one kept as written).
    public var transport: String
    public var host: Host
    public var port: UInt16?
    public var parameters: [Parameter]

    public init(transport: String, host: Host, port: UInt16? = nil, parameters: [Parameter] = [],
                protocolName: String = "SIP", protocolVersion: String = "2.0") {
        self.protocolName = protocolName
        self.protocolVersion = protocolVersion
        self.transport = transport
        self.host = host
        self.port = port
        self.parameters = parameters
    }

    /// The RFC 3261 magic cookie that starts every branch of a compliant element (§8.1.1.7).
    public static let magicCookie = "z9hG4bK"

    public var branch: String? {
        get { parameters.parameter("branch").flatMap { $0 } }
        set { if let newValue { parameters.set("branch", newValue) } else { parameters.remove("branch") } }
    }

    /// Whether the branch is an RFC 3261 transaction id: the magic cookie followed by at least one
    /// more character (RFC 4475 badbranch: the bare cookie is not one, so RFC 2543 matching applies).
    public var hasRFC3261Branch: Bool {
        guard let b = branch else { return false }
        return b.utf8.count > 7 && b.hasPrefix(Via.magicCookie)
    }

    public var received: String? {
        get { parameters.parameter("received").flatMap { $0 } }
        set { if let newValue { parameters.set("received", newValue) } else { parameters.remove("received") } }
    }

    /// RFC 3581: `.some(nil)` when the client asked (`;rport` without value), `.some(port)` when filled in.
    public var rport: UInt16?? {
        guard let v = parameters.parameter("rport") else { return nil }
        guard let text = v else { return .some(nil) }
        return .some(UInt16(text))
    }

    public var maddr: String? { parameters.parameter("maddr").flatMap { $0 } }
    public var ttl: String? { parameters.parameter("ttl").flatMap { $0 } }

    /// `host[:port]` as written in the sent-by.
    public var sentBy: String { port.map { "\(host):\($0)" } ?? host.description }

    /// Whether the transport is reliable (TCP, TLS, SCTP, WS, WSS).
    public var isReliable: Bool { transport != "UDP" && transport != "DTLS" }

    public var description: String {
        // `protocol/version/transport sent-by;params`, gathered as octets in one buffer (interpolation
        // and String appends cost several times more, and this runs for every request a server stamps,
        // RFC 3261 §18.2.1).
        var out: [UInt8] = []
        out.reserveCapacity(96)
        out.append(contentsOf: protocolName.utf8)
        out.append(ASCII.slash)
        out.append(contentsOf: protocolVersion.utf8)
        out.append(ASCII.slash)
        out.append(contentsOf: transport.utf8)
        out.append(ASCII.sp)
        switch host {
        case .name(let h), .ipv4(let h):
            out.append(contentsOf: h.utf8)
        case .ipv6(let h):
            out.append(ASCII.lbracket)
            out.append(contentsOf: h.utf8)
            out.append(ASCII.rbracket)
        }
        if let port {
            out.append(ASCII.colon)
            appendDecimal(port, to: &out)
        }
        for p in parameters {
            out.append(ASCII.semicolon)
            out.append(contentsOf: p.name.utf8)
            if let v = p.value {
                out.append(ASCII.equals)
                out.append(contentsOf: v.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPParseError) {
        let bytes = Array(text.utf8)
        self = try Via.parse(bytes[...], limits: limits)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, limits: SIPLimits) throws(SIPParseError) -> Via {
        var sc = ValueScanner(bytes, header: "Via")
        let name = try sc.token("protocol name")
        try sc.expect(ASCII.slash, "'/' after the protocol name")
        let version = try sc.token("protocol version")
        try sc.expect(ASCII.slash, "'/' after the protocol version")
        // Tokens are ASCII, so ASCII upper-casing is what `uppercased()` would give, without its
        // Unicode machinery.
        guard let transportBytes = sc.run(ByteClass.token) else { throw sc.error("expected transport") }
        let transport = transportBytes.contains(where: { $0 >= 0x61 && $0 <= 0x7A })
            ? String(bytes: transportBytes.map { ($0 >= 0x61 && $0 <= 0x7A) ? $0 - 0x20 : $0 })
            : String(bytes: transportBytes)
        guard sc.skipLWS() else { throw sc.error("expected whitespace before sent-by") }
        let hs = sc.i
        if sc.peek == ASCII.lbracket {
            while let c = sc.peek, c != ASCII.rbracket { sc.i += 1 }
            guard sc.peek == ASCII.rbracket else { throw sc.error("unterminated IPv6 reference") }
            sc.i += 1
        } else {
            while let c = sc.peek, ByteClass.hostchar.contains(c) { sc.i += 1 }
        }
        guard let host = Host.parse(bytes[hs..<sc.i], allowBareIPv6: false) else {
            sc.i = hs
            throw sc.error("bad sent-by host")
        }
        var port: UInt16? = nil
        if sc.accept(ASCII.colon) {
            port = UInt16(try sc.number("sent-by port", max: 65535))
        }
        let parameters = try sc.parameters(limit: limits.maxParameters)
        try sc.expectEnd()
        for p in parameters {
            // (Compared in place: lower-casing every name into a new string cost more than the checks.)
            let name = p.name
            var octets = name
            // 1 branch, 2 maddr, 3 ttl, 4 received, 5 rport, 0 any other.
            let kind: UInt8 = octets.withUTF8 { b in
                if b.equalsLowercased("branch") { return 1 }
                if b.equalsLowercased("maddr") { return 2 }
                if b.equalsLowercased("ttl") { return 3 }
                if b.equalsLowercased("received") { return 4 }
                if b.equalsLowercased("rport") { return 5 }
                return 0
            }
            let isMaddr = kind == 2, isTTL = kind == 3, isReceived = kind == 4
            if kind >= 1 && kind <= 4 {
                guard let v = p.value, !v.isEmpty else { throw sc.error("Via parameter '\(p.name)' needs a value") }
                if isReceived || isMaddr {
                    let vb = Array(v.utf8)
                    guard Host.parse(vb[...], allowBareIPv6: true) != nil else {
                        throw sc.error("Via \(name.asciiLowercased) '\(v)' is not an address")
                    }
                }
                if isTTL { guard let t = Int(v), (0...255).contains(t) else { throw sc.error("Via ttl out of range") } }
            }
            if kind == 5, let v = p.value {
                guard let r = Int(v), (1...65535).contains(r) else { throw sc.error("Via rport out of range") }
            }
        }
        return Via(transport: transport, host: host, port: port, parameters: parameters,
                   protocolName: name, protocolVersion: version)
    }
}

/// Appends `n` in decimal (no leading zeros).
func appendDecimal(_ n: UInt16, to out: inout [UInt8]) {
    if n >= 10 { appendDecimal(n / 10, to: &out) }
    out.append(UInt8(0x30 + n % 10))
}
