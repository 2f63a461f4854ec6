/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605).
public struct RTCPAttribute: Hashable, Sendable {
    public var port: UInt16
    public var connection: Connection?

    public init(port: UInt16, connection: Connection? = nil) {
        self.port = port
        self.connection = connection
    }

    /// Parses an attribute named `rtcp`; `nil` for any other attribute or a malformed value.
    public init?(attribute: Attribute) {
        guard attribute.name == "rtcp", let value = attribute.value else { return nil }
        let w = value.split(separator: " ", omittingEmptySubsequences: true)
        guard w.count == 1 || w.count == 4, let port = parseUInt64(w[0]), port <= 65535 else { return nil }
        self.port = UInt16(port)
        connection = w.count == 4
            ? Connection(networkType: String(w[1]), addressType: String(w[2]), address: String(w[3]))
            : nil
    }

    public var attribute: Attribute {
        if let connection { return Attribute("rtcp", "\(port) \(connection.fieldValue)") }
        return Attribute("rtcp", String(port))
    }
}
