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
        "\(protocolName)/\(protocolVersion)/\(transport) \(sentBy)\(parameters.serialized)"
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
        let transport = try sc.token("transport").uppercased()
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
            let n = p.name.asciiLowercased
            if n == "branch" || n == "maddr" || n == "ttl" || n == "received" {
                guard let v = p.value, !v.isEmpty else { throw sc.error("Via parameter '\(p.name)' needs a value") }
                if n == "received" || n == "maddr" {
                    let vb = Array(v.utf8)
                    guard Host.parse(vb[...], allowBareIPv6: true) != nil else { throw sc.error("Via \(n) '\(v)' is not an address") }
                }
                if n == "ttl" { guard let t = Int(v), (0...255).contains(t) else { throw sc.error("Via ttl out of range") } }
            }
            if n == "rport", let v = p.value { guard let r = Int(v), (1...65535).contains(r) else { throw sc.error("Via rport out of range") } }
        }
        return Via(transport: transport, host: host, port: port, parameters: parameters,
                   protocolName: name, protocolVersion: version)
    }
}
