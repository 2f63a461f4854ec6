import Config
import SDP
import SIPAuth
import SIPCore
import SIPTransport

extension LineAccount {
    /// A line from the configuration (TR-104 SIP.Client + its SIP.Network):
    /// - address-of-record: `RegisterURI`, else `DirectoryNumber@ServerDomain` (Config resolved it);
    /// - REGISTER Request-URI: `sip:<ServerDomain>`, else the AOR's domain (RFC 3261 §10.2);
    /// - where REGISTERs go, in order: `OutboundProxy`, else `RegistrarServer`, else `ProxyServer`
    ///   (each with its port and transport: an explicit port means A/AAAA only, RFC 3263 §4.2), else
    ///   the domain itself without a port (NAPTR/SRV, RFC 3263); then `X_DIALTONE_BackupProxy`;
    /// - timers and keepalives from the network's settings.
    /// Nil when the AOR is not a SIP URI (Config validates it, so only for a hand-built value).
    public init?(line: VoiceConfiguration.Line) {
        guard case .sip(let aor)? = try? URI.parse(line.addressOfRecord) else { return nil }
        let n = line.network
        let domain = n.serverDomain.flatMap { $0.isEmpty ? nil : $0 } ?? aor.host.description
        let registrar = SIPURI(isSecure: aor.isSecure, host: Host.parse(domain) ?? .name(domain))

        func server(_ host: String?, _ port: UInt16, _ transport: SIPNetworkConfiguration.Transport) -> SIPURI? {
            guard let host, !host.isEmpty, let parsed = Host.parse(host) else { return nil }
            var uri = SIPURI(host: parsed, port: port == 0 ? nil : port)
            if transport != .udp { uri.parameters.append(Parameter("transport", transport.rawValue.lowercased())) }
            return uri
        }
        var servers: [SIPURI] = []
        let primary = server(n.outboundProxy, n.outboundProxyPort, n.proxyServerTransport)
            ?? server(n.registrarServer, n.registrarServerPort, n.registrarServerTransport)
            ?? server(n.proxyServer, n.proxyServerPort, n.proxyServerTransport)
        var transport = n.registrarServer.map { $0.isEmpty ? n.proxyServerTransport : n.registrarServerTransport } ?? n.proxyServerTransport
        if let primary {
            servers.append(primary)
        } else {
            var uri = registrar
            transport = n.proxyServerTransport
            if transport != .udp { uri.parameters.append(Parameter("transport", transport.rawValue.lowercased())) }
            servers.append(uri)
        }
        if let backup = server(n.backupProxy, n.backupProxyPort, n.proxyServerTransport) { servers.append(backup) }

        let algorithms = Set(n.digestAlgorithms.compactMap { DigestAlgorithm(token: $0.rawValue) })
        let keepAlive: KeepAlive
        switch n.keepAliveMethod {
        case .crlf: keepAlive = .crlf
        case .options: keepAlive = .options
        case .none: keepAlive = .none
        }
        // A random seed: routers (and lines) that lost the same server do not retry in step.
        var generator = SystemRandomNumberGenerator()
        let seed = generator.next()
        let password = line.client.authPassword
        let user = line.client.authUserName
        self.init(name: line.client.alias, aor: aor, registrar: registrar, servers: servers,
                  authUser: user.isEmpty ? nil : user, password: password.isEmpty ? nil : password,
                  algorithms: algorithms.isEmpty ? [.md5] : algorithms,
                  transport: TransportKind(rawValue: transport.rawValue.lowercased()) ?? .udp,
                  policy: RegistrationPolicy(expires: n.registerExpires, retryInterval: n.registerRetryInterval,
                                             loginRejectedInterval: n.timerLoginRejected, noLoginRetry: n.noLoginRetry),
                  keepAlive: keepAlive, keepAliveInterval: n.keepAliveEnabled ? n.keepAliveInterval : 0, seed: seed)
        if n.userAgentPort != 0 { localPort = n.userAgentPort }
        hasOutboundProxy = !(n.outboundProxy ?? "").isEmpty
        let mapped = line.codecs.map { c in
            Codec(encodingName: c.sdpEncodingName, clockRate: UInt32(c.clockRate), channels: c.sdpChannels,
                  preferredPayloadType: c.staticPayloadType ?? 96)
        }
        if !mapped.isEmpty { codecs = mapped }
        switch n.inboundAuth {
        case .none: inbound = .none
        case .sourceFilter: inbound = .sourceFilter
        case .digest: inbound = .digest(user: n.inboundAuthUsername, password: n.inboundAuthPassword)
        }
    }
}
