extension VoiceConfiguration {
    /// The value of the `VoiceService` key: every key written, unset hosts and URIs as "" (TR-104's
    /// convention), in the order of the type's comment. `VoiceConfiguration.parse(jsonValue)` gives
    /// back an equal value for a validated configuration. Passwords are included: this is the file.
    public var jsonValue: JSONValue {
        .object([("SIP", .object([
            ("Network", .array(networks.map(\.jsonValue))),
            ("Client", .array(clients.map(\.jsonValue)))
        ]))])
    }

    /// `jsonValue` as JSON text (UTF-8): what the web UI writes under `VoiceService`, and what
    /// `VoiceConfiguration.parse(_: [UInt8])` reads.
    ///
    /// - Parameter indent: nil for compact output, else spaces per level (see `JSONValue.serialized`).
    public func serialized(indent: Int? = nil) -> [UInt8] {
        jsonValue.serialized(indent: indent)
    }
}

extension SIPNetworkConfiguration {
    /// The entry as it stands in `VoiceService.SIP.Network`.
    public var jsonValue: JSONValue {
        func port(_ p: UInt16) -> JSONValue { .number(Double(p)) }
        func int(_ n: Int) -> JSONValue { .number(Double(n)) }
        func text(_ s: String?) -> JSONValue { .string(s.map(SIPSyntax.uriHost) ?? "") }
        let members: [(key: String, value: JSONValue)] = [
            ("Alias", .string(alias)),
            ("Enable", .bool(enable)),
            ("ProxyServer", text(proxyServer)),
            ("ProxyServerPort", port(proxyServerPort)),
            ("ProxyServerTransport", .string(proxyServerTransport.rawValue)),
            ("RegistrarServer", text(registrarServer)),
            ("RegistrarServerPort", port(registrarServerPort)),
            ("RegistrarServerTransport", .string(registrarServerTransport.rawValue)),
            ("ServerDomain", text(serverDomain)),
            ("UserAgentDomain", text(userAgentDomain)),
            ("UserAgentPort", port(userAgentPort)),
            ("UserAgentTransport", .string(userAgentTransport.rawValue)),
            ("OutboundProxy", text(outboundProxy)),
            ("OutboundProxyPort", port(outboundProxyPort)),
            ("X_DIALTONE_BackupProxy", text(backupProxy)),
            ("X_DIALTONE_BackupProxyPort", port(backupProxyPort)),
            ("RegisterExpires", int(registerExpires)),
            ("RegisterRetryInterval", int(registerRetryInterval)),
            ("TimerLoginRejected", int(timerLoginRejected)),
            ("NoLoginRetry", .bool(noLoginRetry)),
            ("TimerT1", int(timerT1)),
            ("TimerT2", int(timerT2)),
            ("TimerT4", int(timerT4)),
            ("InboundAuth", .string(inboundAuth.rawValue)),
            ("InboundAuthUsername", .string(inboundAuthUsername)),
            ("InboundAuthPassword", .string(inboundAuthPassword)),
            ("CodecList", .array(codecList.map { .string($0.rawValue) })),
            ("X_DIALTONE_KeepAliveInterval", int(keepAliveInterval)),
            ("X_DIALTONE_KeepAliveMethod", .string(keepAliveMethod.rawValue)),
            ("X_DIALTONE_DigestAlgorithms", .array(digestAlgorithms.map { .string($0.rawValue) }))
        ]
        return .object(members)
    }
}

extension SIPClientConfiguration {
    /// The entry as it stands in `VoiceService.SIP.Client`.
    public var jsonValue: JSONValue {
        let members: [(key: String, value: JSONValue)] = [
            ("Alias", .string(alias)),
            ("Enable", .bool(enable)),
            ("Network", .string(network ?? "")),
            ("AuthUserName", .string(authUserName)),
            ("AuthPassword", .string(authPassword)),
            ("RegisterURI", .string(registerURI ?? "")),
            ("DirectoryNumber", .string(directoryNumber ?? "")),
            ("MaxSessions", .number(Double(maxSessions))),
            ("CodecList", .array(codecList.map { .string($0.rawValue) }))
        ]
        return .object(members)
    }
}
