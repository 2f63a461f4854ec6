extension VoiceConfiguration {
    /// Checks every rule (the type's comment lists them) and returns the configuration with hosts in
    /// canonical form (lower-cased, IPv6 without brackets). `parse` applies it; call it on values
    /// built in code before using or saving them. The first rule broken is the error, fields named
    /// as in the file (`VoiceService.SIP.Network.1.TimerT2`).
    public func validated() -> Result<VoiceConfiguration, ConfigError> {
        do throws(ConfigError) {
            return .success(try checked())
        } catch {
            return .failure(error)
        }
    }

    func checked() throws(ConfigError) -> VoiceConfiguration {
        var result = self
        let networkBase = "\(VoiceConfiguration.sectionKey).SIP.Network"
        let clientBase = "\(VoiceConfiguration.sectionKey).SIP.Client"
        for (i, network) in networks.enumerated() {
            let base = "\(networkBase).\(i + 1)"
            result.networks[i] = try network.checked(field: base)
            if let first = networks[..<i].firstIndex(where: { $0.alias == network.alias }) {
                throw ConfigError(.invalidValue, "alias \(SIPSyntax.quoted(network.alias)) is already used by Network.\(first + 1)",
                                  field: "\(base).Alias")
            }
        }
        // Addresses-of-record of the enabled clients so far: key → client instance number.
        var addresses: [String: Int] = [:]
        for (i, client) in clients.enumerated() {
            let base = "\(clientBase).\(i + 1)"
            try client.checkFields(field: base)
            if let first = clients[..<i].firstIndex(where: { $0.alias == client.alias }) {
                throw ConfigError(.invalidValue, "alias \(SIPSyntax.quoted(client.alias)) is already used by Client.\(first + 1)",
                                  field: "\(base).Alias")
            }
            var network: SIPNetworkConfiguration? = nil
            if let alias = client.network {
                guard let n = result.networks.first(where: { $0.alias == alias }) else {
                    let known = networks.isEmpty ? "there are none" : "known: " + networks.map(\.alias).joined(separator: ", ")
                    throw ConfigError(.invalidValue, "\(SIPSyntax.quoted(alias)) is not the Alias of a Network (\(known))",
                                      field: "\(base).Network")
                }
                network = n
            }
            guard client.enable else { continue }
            guard let network else {
                throw ConfigError(.missingValue, "an enabled client needs a Network (the Alias of a Network entry)", field: "\(base).Network")
            }
            guard network.hasServer else {
                throw ConfigError(.missingValue,
                                  "Network \(SIPSyntax.quoted(network.alias)) has no RegistrarServer, ProxyServer, OutboundProxy or ServerDomain; an enabled client needs one",
                                  field: "\(base).Network")
            }
            guard let aor = client.addressOfRecord(on: network) else {
                let why = client.directoryNumber == nil
                    ? "an enabled client needs an address-of-record: a RegisterURI, or a DirectoryNumber with the Network's ServerDomain"
                    : "the DirectoryNumber needs the ServerDomain of Network \(SIPSyntax.quoted(network.alias)), which has none; or set a RegisterURI"
                throw ConfigError(.missingValue, why, field: "\(base).RegisterURI")
            }
            let aorField = client.registerURI == nil ? "\(base).DirectoryNumber" : "\(base).RegisterURI"
            guard case .success(let parts) = SIPSyntax.addressOfRecord(aor) else {
                // A DirectoryNumber that passed its own check always forms a valid URI.
                throw ConfigError(.invalidValue, "does not form a usable address-of-record", field: aorField)
            }
            if let first = addresses[parts.key] {
                throw ConfigError(.invalidValue,
                                  "Client.\(first) (\(SIPSyntax.quoted(clients[first - 1].alias))) is enabled with the same address-of-record \(SIPSyntax.quoted(aor))",
                                  field: aorField)
            }
            addresses[parts.key] = i + 1
        }
        return result
    }
}

extension SIPNetworkConfiguration {
    /// Per-field rules; returns the network with hosts canonical.
    func checked(field base: String) throws(ConfigError) -> SIPNetworkConfiguration {
        var n = self
        try VoiceRules.alias(alias, field: "\(base).Alias")
        n.proxyServer = try VoiceRules.host(proxyServer, field: "\(base).ProxyServer")
        try VoiceRules.serverPort(proxyServerPort, field: "\(base).ProxyServerPort")
        n.registrarServer = try VoiceRules.host(registrarServer, field: "\(base).RegistrarServer")
        try VoiceRules.serverPort(registrarServerPort, field: "\(base).RegistrarServerPort")
        n.serverDomain = try VoiceRules.host(serverDomain, field: "\(base).ServerDomain")
        n.userAgentDomain = try VoiceRules.host(userAgentDomain, field: "\(base).UserAgentDomain")
        n.outboundProxy = try VoiceRules.host(outboundProxy, field: "\(base).OutboundProxy")
        try VoiceRules.serverPort(outboundProxyPort, field: "\(base).OutboundProxyPort")
        n.backupProxy = try VoiceRules.host(backupProxy, field: "\(base).X_DIALTONE_BackupProxy")
        try VoiceRules.serverPort(backupProxyPort, field: "\(base).X_DIALTONE_BackupProxyPort")
        try VoiceRules.range(registerExpires, 60...86_400, field: "\(base).RegisterExpires")
        try VoiceRules.range(registerRetryInterval, 1...86_400, field: "\(base).RegisterRetryInterval")
        try VoiceRules.range(timerLoginRejected, 1...86_400, field: "\(base).TimerLoginRejected")
        try VoiceRules.range(timerT1, VoiceRules.unsignedInt, field: "\(base).TimerT1")
        try VoiceRules.range(timerT2, VoiceRules.unsignedInt, field: "\(base).TimerT2")
        guard timerT2 >= timerT1 else {
            throw ConfigError(.invalidValue, "must be at least TimerT1 (\(timerT1)), not \(timerT2)", field: "\(base).TimerT2")
        }
        try VoiceRules.range(timerT4, VoiceRules.unsignedInt, field: "\(base).TimerT4")
        try VoiceRules.userName(inboundAuthUsername, max: 256, field: "\(base).InboundAuthUsername")
        try VoiceRules.password(inboundAuthPassword, max: 256, field: "\(base).InboundAuthPassword")
        if inboundAuth == .digest {
            guard !inboundAuthUsername.isEmpty else {
                throw ConfigError(.missingValue, "InboundAuth Digest needs a user name", field: "\(base).InboundAuthUsername")
            }
            guard !inboundAuthPassword.isEmpty else {
                throw ConfigError(.missingValue, "InboundAuth Digest needs a password", field: "\(base).InboundAuthPassword")
            }
        }
        guard !codecList.isEmpty else {
            throw ConfigError(.invalidValue, "must name at least one codec (accepted: \(LineCodec.names.joined(separator: ", ")))",
                              field: "\(base).CodecList")
        }
        try VoiceRules.noRepeats(codecList.map(\.rawValue), field: "\(base).CodecList")
        guard keepAliveInterval == 0 || (5...3600).contains(keepAliveInterval) else {
            throw ConfigError(.invalidValue, "must be 0 (off) or between 5 and 3600, not \(keepAliveInterval)",
                              field: "\(base).X_DIALTONE_KeepAliveInterval")
        }
        guard !digestAlgorithms.isEmpty else {
            throw ConfigError(.invalidValue, "must name at least one of MD5, SHA-256, SHA-512-256", field: "\(base).X_DIALTONE_DigestAlgorithms")
        }
        try VoiceRules.noRepeats(digestAlgorithms.map(\.rawValue), field: "\(base).X_DIALTONE_DigestAlgorithms")
        return n
    }
}

extension SIPClientConfiguration {
    /// Per-field rules (the ones that need no other entry).
    func checkFields(field base: String) throws(ConfigError) {
        try VoiceRules.alias(alias, field: "\(base).Alias")
        if let network {
            guard SIPSyntax.length(network) <= 256 else { throw VoiceRules.tooLong(256, field: "\(base).Network") }
        }
        try VoiceRules.userName(authUserName, max: 128, field: "\(base).AuthUserName")
        try VoiceRules.password(authPassword, max: 128, field: "\(base).AuthPassword")
        if let registerURI {
            let field = "\(base).RegisterURI"
            guard SIPSyntax.length(registerURI) <= 389 else { throw VoiceRules.tooLong(389, field: field) }
            if case .failure(let problem) = SIPSyntax.addressOfRecord(registerURI) {
                let subject = problem.echo ? SIPSyntax.quoted(registerURI) : "the address-of-record"
                throw ConfigError(.invalidValue, "\(subject) \(problem.reason)", field: field)
            }
        }
        if let directoryNumber {
            let field = "\(base).DirectoryNumber"
            guard SIPSyntax.length(directoryNumber) <= 32 else { throw VoiceRules.tooLong(32, field: field) }
            guard !directoryNumber.isEmpty, directoryNumber.utf8.allSatisfy(SIPSyntax.isUserChar) else {
                throw ConfigError(.invalidValue,
                                  "\(SIPSyntax.quoted(directoryNumber)) may hold only letters, digits and - _ . ! ~ * ' ( ) & = + $ , ; ? / (write other characters %-escaped in RegisterURI)",
                                  field: field)
            }
        }
        try VoiceRules.range(maxSessions, VoiceRules.unsignedZero, field: "\(base).MaxSessions")
        try VoiceRules.noRepeats(codecList.map(\.rawValue), field: "\(base).CodecList")
    }
}

/// The value rules shared by networks and clients.
enum VoiceRules {
    /// TR-106 `unsignedInt` from 1 (the timers' `range=1..None`).
    static let unsignedInt: ClosedRange<Int> = 1...Int(UInt32.max)
    /// TR-106 `unsignedInt`.
    static let unsignedZero: ClosedRange<Int> = 0...Int(UInt32.max)

    static func outOfRange(_ n: Int, _ range: ClosedRange<Int>, field: String) -> ConfigError {
        ConfigError(.invalidValue, "must be between \(range.lowerBound) and \(range.upperBound), not \(n)", field: field)
    }

    static func tooLong(_ max: Int, field: String) -> ConfigError {
        ConfigError(.invalidValue, "must be at most \(max) characters", field: field)
    }

    static func range(_ n: Int, _ range: ClosedRange<Int>, field: String) throws(ConfigError) {
        guard range.contains(n) else { throw outOfRange(n, range, field: field) }
    }

    static func serverPort(_ port: UInt16, field: String) throws(ConfigError) {
        guard port != 0 else { throw outOfRange(0, 1...65535, field: field) }
    }

    /// TR-106 `Alias` (string(64), starts with a letter), further held to letters, digits, `-` and
    /// `_` so that it can stand in a parameter path.
    static func alias(_ alias: String, field: String) throws(ConfigError) {
        let b = Array(alias.utf8)
        guard let first = b.first, SIPSyntax.isAlpha(first), b.count <= 64,
              b.allSatisfy({ SIPSyntax.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw ConfigError(.invalidValue,
                              "\(SIPSyntax.quoted(alias)) is not an alias: 1-64 letters, digits, '-' or '_', starting with a letter",
                              field: field)
        }
    }

    /// A host value (max 256 characters as TR-104 says): canonical form, nil stays nil.
    static func host(_ host: String?, field: String) throws(ConfigError) -> String? {
        guard let host else { return nil }
        guard SIPSyntax.length(host) <= 256 else { throw tooLong(256, field: field) }
        guard let canonical = SIPSyntax.canonicalHost(host) else {
            throw ConfigError(.invalidValue, "\(SIPSyntax.quoted(host)) is not a host name or IP address", field: field)
        }
        return canonical
    }

    /// A Digest user name: no control characters (it goes into a quoted string).
    static func userName(_ name: String, max: Int, field: String) throws(ConfigError) {
        guard SIPSyntax.length(name) <= max else { throw tooLong(max, field: field) }
        guard !SIPSyntax.hasControlCharacters(name) else {
            throw ConfigError(.invalidValue, "must not contain control characters", field: field)
        }
    }

    /// A password: only its length is checked, and the message never quotes it.
    static func password(_ password: String, max: Int, field: String) throws(ConfigError) {
        guard SIPSyntax.length(password) <= max else { throw tooLong(max, field: field) }
    }

    static func noRepeats(_ names: [String], field: String) throws(ConfigError) {
        for (i, name) in names.enumerated() where names[..<i].contains(name) {
            throw ConfigError(.invalidValue, "lists \(name) twice", field: field)
        }
    }
}
