/// RFC 3263 names of the transports (in a separate extension: `TransportKind` itself belongs to the
/// transport layer).
extension TransportKind {
    /// The NAPTR service field (RFC 3263 §4.1).
    public var naptrService: String {
        switch self {
        case .udp: return "SIP+D2U"
        case .tcp: return "SIP+D2T"
        case .tls: return "SIPS+D2T"
        }
    }

    /// The SRV owner-name prefix (RFC 3263 §4.1).
    public var srvPrefix: String {
        switch self {
        case .udp: return "_sip._udp."
        case .tcp: return "_sip._tcp."
        case .tls: return "_sips._tcp."
        }
    }
}
