/// The `VoiceService` section of the configuration file: the line accounts of Dialtone's SIP user
/// agent (issue 6), named after TR-104 issue 2 (`VoiceService.{i}.SIP.Network.{i}` and
/// `VoiceService.{i}.SIP.Client.{i}`). Absent means no lines.
///
/// ```text
/// "VoiceService": {
///   "SIP": {
///     "Network": [ {                        // the ISP side; see SIPNetworkConfiguration
///       "Alias": "isp", "Enable": true,
///       "ProxyServer": "sip.example.net", "ProxyServerPort": 5060, "ProxyServerTransport": "UDP",
///       "RegistrarServer": "", "RegistrarServerPort": 5060, "RegistrarServerTransport": "UDP",
///       "ServerDomain": "example.net",      // SIP domain; with no registrar/proxy host set it is
///                                           //   resolved by RFC 3263 (NAPTR/SRV)
///       "UserAgentDomain": "", "UserAgentPort": 0, "UserAgentTransport": "UDP",   // 0 = any port
///       "OutboundProxy": "", "OutboundProxyPort": 5060,
///       "X_DIALTONE_BackupProxy": "", "X_DIALTONE_BackupProxyPort": 5060,
///                                           // vendor extension (TR-106 X_<VENDOR>_): used while the
///                                           //   primary fails, with return to the primary
///       "RegisterExpires": 3600, "RegisterRetryInterval": 30, "TimerLoginRejected": 600,
///       "NoLoginRetry": false,
///       "TimerT1": 500, "TimerT2": 4000, "TimerT4": 5000,          // milliseconds
///       "InboundAuth": "SourceFilter",      // default SourceFilter (TR-104 says None): INVITEs are
///                                           //   accepted only from the registered proxy
///       "InboundAuthUsername": "", "InboundAuthPassword": "",
///       "CodecList": ["G.711MuLaw", "G.711ALaw", "G.722"],
///       "X_DIALTONE_KeepAliveInterval": 25, "X_DIALTONE_KeepAliveMethod": "CRLF",  // CRLF|OPTIONS|None
///       "X_DIALTONE_DigestAlgorithms": ["SHA-512-256", "SHA-256", "MD5"]
///                                           // challenge algorithms answered, preferred first
///     } ],
///     "Client": [ {                         // one line each; see SIPClientConfiguration
///       "Alias": "line1", "Enable": true,
///       "Network": "isp",                   // Alias of a Network entry
///       "AuthUserName": "alice", "AuthPassword": "secret",
///       "RegisterURI": "sip:alice@example.net",   // or "": then DirectoryNumber@ServerDomain
///       "DirectoryNumber": "101",
///       "MaxSessions": 2,
///       "CodecList": []                     // empty = the Network's
///     } ]
///   }
/// }
/// ```
///
/// Every key may be left out (its default applies) except `Alias`. Unknown keys, wrong JSON types
/// and values out of range are errors naming the field TR-069 style, instances numbered from 1:
/// `VoiceService.SIP.Network.1.ProxyServerPort`, `VoiceService.SIP.Client.2.RegisterURI`. Rules
/// across entries: aliases are unique within Network and within Client; a Client's `Network` names
/// an existing Network; an enabled Client needs a Network with at least one of RegistrarServer,
/// ProxyServer, OutboundProxy or ServerDomain, and an address-of-record (RegisterURI, or
/// DirectoryNumber with the Network's ServerDomain) that no other enabled Client has.
///
/// Passwords never appear in error messages nor in `description`/`debugDescription`/mirrors.
public struct VoiceConfiguration: Sendable, Equatable {
    /// `SIP.Network`, in file order (instance number = index + 1).
    public var networks: [SIPNetworkConfiguration]
    /// `SIP.Client`, in file order (instance number = index + 1).
    public var clients: [SIPClientConfiguration]

    public init(networks: [SIPNetworkConfiguration] = [], clients: [SIPClientConfiguration] = []) {
        self.networks = networks
        self.clients = clients
    }

    /// A line ready to run: an enabled client with its enabled network.
    public struct Line: Sendable, Equatable {
        public var client: SIPClientConfiguration
        public var network: SIPNetworkConfiguration
        /// The client's instance number (`SIP.Client.{i}`, from 1).
        public var clientNumber: Int
        /// The network's instance number (`SIP.Network.{i}`, from 1).
        public var networkNumber: Int
        /// `client.addressOfRecord(on: network)`.
        public var addressOfRecord: String
        /// `client.codecs(on: network)`: the client's codecs, else the network's.
        public var codecs: [LineCodec]

        public init(client: SIPClientConfiguration, network: SIPNetworkConfiguration, clientNumber: Int,
                    networkNumber: Int, addressOfRecord: String, codecs: [LineCodec]) {
            self.client = client
            self.network = network
            self.clientNumber = clientNumber
            self.networkNumber = networkNumber
            self.addressOfRecord = addressOfRecord
            self.codecs = codecs
        }

        /// The client's alias: the line's name.
        public var alias: String { client.alias }
    }

    /// The network whose alias is `alias` (exact match).
    public func network(alias: String) -> SIPNetworkConfiguration? {
        networks.first { $0.alias == alias }
    }

    /// The client whose alias is `alias` (exact match).
    public func client(alias: String) -> SIPClientConfiguration? {
        clients.first { $0.alias == alias }
    }

    /// The enabled line whose client alias is `alias`.
    public func line(alias: String) -> Line? {
        enabledLines.first { $0.client.alias == alias }
    }

    /// The lines to run, in client order: every enabled client whose network exists and is enabled,
    /// with its address-of-record and codecs resolved. A client whose network is disabled is left
    /// out (disabling a network turns its lines off). On a validated configuration nothing else is
    /// left out; on an unvalidated one, clients without a network or address-of-record are.
    public var enabledLines: [Line] {
        var lines: [Line] = []
        for (c, client) in clients.enumerated() where client.enable {
            guard let alias = client.network,
                  let n = networks.firstIndex(where: { $0.alias == alias }), networks[n].enable,
                  let aor = client.addressOfRecord(on: networks[n]) else { continue }
            lines.append(Line(client: client, network: networks[n], clientNumber: c + 1, networkNumber: n + 1,
                              addressOfRecord: aor, codecs: client.codecs(on: networks[n])))
        }
        return lines
    }
}

extension VoiceConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Networks and clients without their passwords.
    public var description: String {
        "VoiceConfiguration(networks: [" + networks.map(\.description).joined(separator: ", ")
            + "], clients: [" + clients.map(\.description).joined(separator: ", ") + "])"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["networks": networks, "clients": clients], displayStyle: .struct)
    }
}

extension VoiceConfiguration.Line: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The line without its passwords.
    public var description: String {
        "Line(\(client.alias), Client.\(clientNumber) on Network.\(networkNumber) \(network.alias), "
            + "aor: \(Redacted.uri(addressOfRecord)), codecs: \(codecs.map(\.rawValue)), client: \(client), network: \(network))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["client": client, "network": network, "clientNumber": clientNumber,
                                "networkNumber": networkNumber, "addressOfRecord": Redacted.uri(addressOfRecord),
                                "codecs": codecs], displayStyle: .struct)
    }
}
