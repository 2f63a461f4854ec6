/// dnsmasq as the ISP's DNS for SIP (RFC 3263 §4.2): `_sip._<transport>.<domain>` SRV records naming
/// a few servers (e.g. two `KamailioISP` instances, priorities 10 and 20) and an A record for each
/// server's host name.
extension Dnsmasq {
    /// One SIP server an SRV record points to.
    public struct SIPServer: Sendable, Hashable {
        /// Its host name (the SRV target), e.g. `sip1.isp.test`; gets an A record.
        public var hostName: String
        /// The IPv4 address of the A record.
        public var address: String
        public var port: UInt16
        /// SRV priority (lower first) and weight.
        public var priority: UInt16
        public var weight: UInt16

        public init(hostName: String, address: String, port: UInt16, priority: UInt16, weight: UInt16 = 0) {
            self.hostName = hostName
            self.address = address
            self.port = port
            self.priority = priority
            self.weight = weight
        }
    }

    /// The dnsmasq options for `servers`: one `--srv-host=_sip._<t>.<domain>,<host>,<port>,<priority>,<weight>`
    /// per server and transport in `transports` ("udp", "tcp"), and one `--host-record=<host>,<address>`
    /// per distinct host name.
    public static func sipServiceRecords(domain: String, servers: [SIPServer], transports: [String] = ["udp"]) -> [String] {
        var records: [String] = []
        for transport in transports {
            for server in servers {
                records.append("--srv-host=_sip._" + transport + "." + domain + "," + server.hostName + "," + String(server.port)
                               + "," + String(server.priority) + "," + String(server.weight))
            }
        }
        var named = Set<String>()
        for server in servers where !named.contains(server.hostName) {
            named.insert(server.hostName)
            records.append("--host-record=" + server.hostName + "," + server.address)
        }
        return records
    }

    /// Starts dnsmasq answering for `domain` with `sipServiceRecords(domain:servers:transports:)`
    /// plus `extraRecords`, on `listenAddress` (see `init(records:localDomain:ttl:timeout:listenAddress:)`).
    /// Other names in `domain` get NXDOMAIN; nothing is forwarded.
    public convenience init(sipDomain domain: String, servers: [SIPServer], transports: [String] = ["udp"],
                            extraRecords: [String] = [], ttl: UInt32 = 60, listenAddress: String = "127.0.0.1",
                            timeout: Double = 10) throws(SubprocessError) {
        try self.init(records: Self.sipServiceRecords(domain: domain, servers: servers, transports: transports) + extraRecords,
                      localDomain: domain, ttl: ttl, timeout: timeout, listenAddress: listenAddress)
    }
}
