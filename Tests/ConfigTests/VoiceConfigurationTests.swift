import Testing
import Config

@Suite struct VoiceConfigurationTests {
    @Test func fullExample() throws {
        let config = try VoiceFixture.parse(VoiceExamples.fullExample).get()
        #expect(config.networks.count == 1)
        #expect(config.clients.count == 1)
        let n = config.networks[0]
        #expect(n.alias == "isp")
        #expect(n.enable)
        #expect(n.proxyServer == "sip.example.net")
        #expect(n.proxyServerPort == 5060)
        #expect(n.proxyServerTransport == .udp)
        #expect(n.registrarServer == nil)
        #expect(n.serverDomain == "example.net")
        #expect(n.userAgentDomain == nil)
        #expect(n.userAgentPort == 0)
        #expect(n.outboundProxy == nil)
        #expect(n.backupProxy == nil)
        #expect(n.inboundAuth == .sourceFilter)
        #expect(n.codecList == [.g711MuLaw, .g711ALaw, .g722])
        #expect(n.keepAliveEnabled)
        #expect(n.digestAlgorithms == [.sha512_256, .sha256, .md5])
        let c = config.clients[0]
        #expect(c.alias == "line1")
        #expect(c.enable)
        #expect(c.network == "isp")
        #expect(c.authUserName == "alice")
        #expect(c.authPassword == "secret")
        #expect(c.registerURI == "sip:alice@example.net")
        #expect(c.directoryNumber == "101")
        #expect(c.maxSessions == 2)
        #expect(c.codecList.isEmpty)

        let lines = config.enabledLines
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.alias == "line1")
        #expect(line.client == c)
        #expect(line.network == n)
        #expect(line.clientNumber == 1)
        #expect(line.networkNumber == 1)
        #expect(line.addressOfRecord == "sip:alice@example.net")
        #expect(line.codecs == [.g711MuLaw, .g711ALaw, .g722])
        #expect(config.line(alias: "line1") == line)
        #expect(config.network(alias: "isp") == n)
        #expect(config.client(alias: "line1") == c)
        #expect(config.network(alias: "ISP") == nil)
        #expect(config.client(alias: "line2") == nil)
    }

    @Test func everyValueChanged() throws {
        let config = try VoiceFixture.parse(VoiceExamples.everyValueChanged).get()
        let n = config.networks[0]
        #expect(n.proxyServer == "proxy.example.net")
        #expect(n.proxyServerPort == 5070)
        #expect(n.proxyServerTransport == .tcp)
        #expect(n.registrarServer == "192.0.2.10")
        #expect(n.registrarServerPort == 5071)
        #expect(n.registrarServerTransport == .tls)
        #expect(n.serverDomain == "example.net.")
        #expect(n.userAgentDomain == "2001:db8::5")
        #expect(n.userAgentPort == 5080)
        #expect(n.userAgentTransport == .tcp)
        #expect(n.outboundProxy == "2001:db8::1")
        #expect(n.outboundProxyPort == 5072)
        #expect(n.backupProxy == "backup-1.example.net")
        #expect(n.backupProxyPort == 5073)
        #expect(n.registerExpires == 600)
        #expect(n.registerRetryInterval == 60)
        #expect(n.timerLoginRejected == 1800)
        #expect(n.noLoginRetry)
        #expect(n.timerT1 == 250 && n.timerT2 == 250 && n.timerT4 == 2500)
        #expect(n.inboundAuth == .digest)
        #expect(n.inboundAuthUsername == "proxy")
        #expect(n.inboundAuthPassword == "in-pw")
        #expect(n.codecList == [.g722, .opus, .g729, .g726, .g711ALaw, .g711MuLaw])
        #expect(n.keepAliveInterval == 0)
        #expect(n.keepAliveMethod == .options)
        #expect(!n.keepAliveEnabled)
        #expect(n.digestAlgorithms == [.md5, .sha256])
        let pbx = config.networks[1]
        #expect(!pbx.enable)
        #expect(pbx.inboundAuth == SIPNetworkConfiguration.InboundAuth.none)
        #expect(pbx.keepAliveMethod == SIPNetworkConfiguration.KeepAliveMethod.none)
        #expect(!pbx.keepAliveEnabled)

        // line1: its own codecs and RegisterURI; line2: derived AOR, the network's codecs;
        // fax: its network is disabled; spare: disabled.
        let lines = config.enabledLines
        #expect(lines.map(\.alias) == ["line1", "line2"])
        #expect(lines.map(\.addressOfRecord) == ["sips:alice@example.net:5061;transport=tcp", "sip:102@example.net."])
        #expect(lines.map(\.clientNumber) == [1, 2])
        #expect(lines[0].codecs == [.g711ALaw])
        #expect(lines[1].codecs == n.codecList)
        #expect(config.line(alias: "fax") == nil)
        #expect(config.client(alias: "fax")?.addressOfRecord(on: pbx) == "sip:103@192.0.2.1")
    }

    @Test func defaults() throws {
        let text = VoiceFixture.voice(networks: [#"{"Alias": "isp"}"#], clients: [#"{"Alias": "line1"}"#])
        let config = try VoiceFixture.parse(text).get()
        let n = config.networks[0]
        #expect(n == SIPNetworkConfiguration(alias: "isp"))
        #expect(n.enable == false)
        #expect(n.proxyServer == nil && n.registrarServer == nil && n.serverDomain == nil)
        #expect(n.userAgentDomain == nil && n.outboundProxy == nil && n.backupProxy == nil)
        #expect(n.proxyServerPort == 5060 && n.registrarServerPort == 5060)
        #expect(n.outboundProxyPort == 5060 && n.backupProxyPort == 5060)
        #expect(n.userAgentPort == 0)
        #expect(n.proxyServerTransport == .udp && n.registrarServerTransport == .udp && n.userAgentTransport == .udp)
        #expect(n.registerExpires == 3600)
        #expect(n.registerRetryInterval == 30)
        #expect(n.timerLoginRejected == 600)
        #expect(n.noLoginRetry == false)
        #expect(n.timerT1 == 500 && n.timerT2 == 4000 && n.timerT4 == 5000)
        #expect(n.inboundAuth == .sourceFilter)
        #expect(n.inboundAuthUsername.isEmpty && n.inboundAuthPassword.isEmpty)
        #expect(n.codecList == [.g711MuLaw, .g711ALaw])
        #expect(n.keepAliveInterval == 25)
        #expect(n.keepAliveMethod == .crlf)
        #expect(n.digestAlgorithms.map(\.rawValue) == ["SHA-512-256", "SHA-256", "MD5"])
        let c = config.clients[0]
        #expect(c == SIPClientConfiguration(alias: "line1"))
        #expect(c.enable == false)
        #expect(c.network == nil)
        #expect(c.authUserName.isEmpty && c.authPassword.isEmpty)
        #expect(c.registerURI == nil && c.directoryNumber == nil)
        #expect(c.maxSessions == 0)
        #expect(c.codecList.isEmpty)
        #expect(config.enabledLines.isEmpty)
    }

    @Test func emptySections() throws {
        #expect(try VoiceFixture.parse("{}").get() == VoiceConfiguration())
        #expect(try VoiceFixture.parse(#"{"SIP": {}}"#).get() == VoiceConfiguration())
        #expect(try VoiceFixture.parse(#"{"SIP": {"Network": [], "Client": []}}"#).get() == VoiceConfiguration())
    }

    /// A line without credentials is allowed.
    @Test func lineWithoutAuthentication() throws {
        let config = try VoiceFixture.parse(VoiceFixture.text(client: [.remove("AuthUserName"), .remove("AuthPassword")])).get()
        #expect(config.enabledLines.first?.client.authUserName == "")
    }

    /// Each of the four server settings alone is enough for an enabled line.
    @Test(arguments: ["RegistrarServer", "ProxyServer", "OutboundProxy", "ServerDomain"])
    func oneServerIsEnough(_ key: String) throws {
        var changes: [VoiceFixture.Change] = [.remove("ProxyServer"), .remove("ServerDomain")]
        changes.append(.set(key, #""192.0.2.20""#))
        let config = try VoiceFixture.parse(VoiceFixture.text(network: changes)).get()
        #expect(config.enabledLines.count == 1)
    }

    /// Host forms that are accepted, and the canonical form kept.
    @Test func acceptedHosts() throws {
        let cases: [(String, String)] = [
            ("sip.example.net", "sip.example.net"),
            ("SIP.Example.Net.", "sip.example.net."),
            ("pbx", "pbx"),
            ("a-1.b2.example", "a-1.b2.example"),
            ("192.0.2.1", "192.0.2.1"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("[2001:DB8::1]", "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8:0:0:1:0:0:1"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
            ("fe80::", "fe80::"),
            ("::", "::"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:192.0.2.1")
        ]
        for (written, kept) in cases {
            let text = VoiceFixture.text(network: [.string("ProxyServer", written)])
            let config = VoiceFixture.parse(text)
            #expect((try? config.get())?.networks[0].proxyServer == kept, "\(written): \(config)")
        }
    }

    /// Address-of-record forms that are accepted.
    @Test(arguments: [
        "sip:alice@example.net",
        "SIP:alice@example.net",
        "sips:alice@example.net",
        "sip:+4930123456@example.net;user=phone",
        "sip:alice@192.0.2.1:5060",
        "sip:alice@[2001:db8::1]:5060",
        "sip:al%20ice@example.net",
        "sip:a-b_c.d!~*'()&=+$,;?/@example.net",
        "sip:alice@example.net;transport=tcp;lr"
    ])
    func acceptedRegisterURIs(_ uri: String) throws {
        let result = VoiceFixture.parse(VoiceFixture.text(client: [.string("RegisterURI", uri)]))
        let config = try result.get()
        #expect(config.enabledLines.first?.addressOfRecord == uri)
    }

    /// DirectoryNumber@ServerDomain, the domain bracketed when it is IPv6.
    @Test func derivedAddressOfRecord() throws {
        let text = VoiceFixture.text(network: [.set("ServerDomain", #""2001:db8::2""#)],
                                     client: [.remove("RegisterURI"), .set("DirectoryNumber", "\"+49*30\"")])
        let config = try VoiceFixture.parse(text).get()
        #expect(config.enabledLines.first?.addressOfRecord == "sip:+49*30@[2001:db8::2]")
    }

    @Test func codecProperties() {
        #expect(LineCodec.names == ["G.711MuLaw", "G.711ALaw", "G.722", "G.726", "G.729", "Opus"])
        let rows: [(LineCodec, String, Int, UInt8?, String)] = [
            (.g711MuLaw, "PCMU", 8000, 0, "PCMU/8000"),
            (.g711ALaw, "PCMA", 8000, 8, "PCMA/8000"),
            (.g722, "G722", 8000, 9, "G722/8000"),
            (.g726, "G726-32", 8000, nil, "G726-32/8000"),
            (.g729, "G729", 8000, 18, "G729/8000"),
            (.opus, "opus", 48000, nil, "opus/48000/2")
        ]
        for (codec, name, clock, pt, rtpmap) in rows {
            #expect(codec.sdpEncodingName == name)
            #expect(codec.clockRate == clock)
            #expect(codec.staticPayloadType == pt)
            #expect(codec.rtpmapEncoding == rtpmap)
            #expect(LineCodec(name: codec.name) == codec)
            #expect(codec.description == codec.rawValue)
        }
        #expect(LineCodec(name: "PCMU") == nil)
    }

    // MARK: Serialization

    @Test(arguments: [VoiceExamples.fullExample, VoiceExamples.everyValueChanged])
    func roundTrip(_ text: String) throws {
        let config = try VoiceFixture.parse(text).get()
        for indent: Int? in [nil, 2] {
            let bytes = config.serialized(indent: indent)
            let again = try VoiceConfiguration.parse(bytes).get()
            #expect(again == config)
            #expect(again.serialized(indent: indent) == bytes)
        }
        #expect(try VoiceConfiguration.parse(config.jsonValue).get() == config)
        #expect(config.serialized() == config.jsonValue.serialized())
    }

    @Test func serializedText() throws {
        let config = try VoiceFixture.parse(VoiceExamples.fullExample).get()
        let json = try #require(JSONValue.parse(config.serialized()))
        let network = try #require(json["SIP"]?["Network"])
        guard case .array(let networks) = network, let n = networks.first else {
            Issue.record("no Network array in \(json.text())")
            return
        }
        #expect(n.keys.count == 30)
        #expect(n["RegistrarServer"] == .string(""))
        #expect(n["ProxyServerPort"] == .number(5060))
        #expect(n["X_DIALTONE_DigestAlgorithms"] == .array([.string("SHA-512-256"), .string("SHA-256"), .string("MD5")]))
        guard case .array(let clients) = try #require(json["SIP"]?["Client"]), let c = clients.first else {
            Issue.record("no Client array in \(json.text())")
            return
        }
        #expect(c.keys == ["Alias", "Enable", "Network", "AuthUserName", "AuthPassword", "RegisterURI", "DirectoryNumber",
                           "MaxSessions", "CodecList"])
        #expect(c["AuthPassword"] == .string("secret"))
        // An IPv6 host is written in brackets and read back without.
        let v6 = try VoiceFixture.parse(VoiceFixture.text(network: [.set("ProxyServer", #""2001:db8::1""#)])).get()
        let v6Networks = try #require(JSONValue.parse(v6.serialized())?["SIP"]?["Network"])
        #expect(firstElement(v6Networks)?["ProxyServer"] == .string("[2001:db8::1]"))
    }

    // MARK: DaemonConfiguration

    @Test func daemonConfigurationReadsTheSection() throws {
        let absent = try DaemonConfiguration.parse(Array(#"{"sip": {"listen": ["udp:127.0.0.1:5060"]}}"#.utf8)).get()
        #expect(absent.voice == nil)
        #expect(DaemonConfiguration.factoryDefault.voice == nil)

        let file = #"{"sip": {"max-transactions": 100}, "VoiceService": "# + VoiceExamples.fullExample + "}"
        let config = try DaemonConfiguration.parse(Array(file.utf8)).get()
        #expect(config.maxTransactions == 100)
        let expected = try VoiceFixture.parse(VoiceExamples.fullExample).get()
        #expect(config.voice == expected)
        #expect(config.voice?.enabledLines.count == 1)

        let broken = #"{"VoiceService": {"SIP": {"Network": [{"Alias": "isp", "TimerT1": 0}]}}}"#
        guard case .failure(let error) = DaemonConfiguration.parse(Array(broken.utf8)) else {
            Issue.record("accepted TimerT1 0")
            return
        }
        #expect(error.field == "VoiceService.SIP.Network.1.TimerT1")
        #expect(error.code == .invalidValue)
        #expect(error.description == "VoiceService.SIP.Network.1.TimerT1: must be between 1 and 4294967295, not 0")

        // The web UI's way of writing it: the section's jsonValue under its key.
        let voice = try VoiceFixture.parse(VoiceExamples.everyValueChanged).get()
        let whole = JSONValue.object([("sip", .object([])), (VoiceConfiguration.sectionKey, voice.jsonValue)])
        #expect(try DaemonConfiguration.parse(whole.serialized()).get().voice == voice)
    }
}

private func firstElement(_ value: JSONValue) -> JSONValue? {
    if case .array(let items) = value { return items.first }
    return nil
}

enum VoiceExamples {
    /// The example of the issue, with every key.
    static let fullExample: String = #"""
    {
      "SIP": {
        "Network": [ { "Alias": "isp", "Enable": true,
            "ProxyServer": "sip.example.net", "ProxyServerPort": 5060, "ProxyServerTransport": "UDP",
            "RegistrarServer": "", "RegistrarServerPort": 5060, "RegistrarServerTransport": "UDP",
            "ServerDomain": "example.net",
            "UserAgentDomain": "", "UserAgentPort": 0, "UserAgentTransport": "UDP",
            "OutboundProxy": "", "OutboundProxyPort": 5060,
            "X_DIALTONE_BackupProxy": "", "X_DIALTONE_BackupProxyPort": 5060,
            "RegisterExpires": 3600, "RegisterRetryInterval": 30, "TimerLoginRejected": 600, "NoLoginRetry": false,
            "TimerT1": 500, "TimerT2": 4000, "TimerT4": 5000,
            "InboundAuth": "SourceFilter", "InboundAuthUsername": "", "InboundAuthPassword": "",
            "CodecList": ["G.711MuLaw", "G.711ALaw", "G.722"],
            "X_DIALTONE_KeepAliveInterval": 25, "X_DIALTONE_KeepAliveMethod": "CRLF",
            "X_DIALTONE_DigestAlgorithms": ["SHA-512-256", "SHA-256", "MD5"]
        } ],
        "Client": [ { "Alias": "line1", "Enable": true, "Network": "isp",
            "AuthUserName": "alice", "AuthPassword": "secret",
            "RegisterURI": "sip:alice@example.net",
            "DirectoryNumber": "101",
            "MaxSessions": 2, "CodecList": [] } ]
      } }
    """#

    /// Every value away from its default.
    static let everyValueChanged: String = #"""
    {"SIP": {
      "Network": [
        {"Alias": "isp", "Enable": true,
         "ProxyServer": "Proxy.Example.NET", "ProxyServerPort": 5070, "ProxyServerTransport": "TCP",
         "RegistrarServer": "192.0.2.10", "RegistrarServerPort": 5071, "RegistrarServerTransport": "TLS",
         "ServerDomain": "example.net.",
         "UserAgentDomain": "[2001:DB8::5]", "UserAgentPort": 5080, "UserAgentTransport": "TCP",
         "OutboundProxy": "2001:db8::1", "OutboundProxyPort": 5072,
         "X_DIALTONE_BackupProxy": "backup-1.example.net", "X_DIALTONE_BackupProxyPort": 5073,
         "RegisterExpires": 600, "RegisterRetryInterval": 60, "TimerLoginRejected": 1800, "NoLoginRetry": true,
         "TimerT1": 250, "TimerT2": 250, "TimerT4": 2500,
         "InboundAuth": "Digest", "InboundAuthUsername": "proxy", "InboundAuthPassword": "in-pw",
         "CodecList": ["G.722", "Opus", "G.729", "G.726", "G.711ALaw", "G.711MuLaw"],
         "X_DIALTONE_KeepAliveInterval": 0, "X_DIALTONE_KeepAliveMethod": "OPTIONS",
         "X_DIALTONE_DigestAlgorithms": ["md5", "sha-256"]},
        {"Alias": "lan_pbx", "ServerDomain": "192.0.2.1", "InboundAuth": "None",
         "X_DIALTONE_KeepAliveMethod": "None", "X_DIALTONE_KeepAliveInterval": 3600}
      ],
      "Client": [
        {"Alias": "line1", "Enable": true, "Network": "isp", "AuthUserName": "alice", "AuthPassword": "pw1",
         "RegisterURI": "sips:alice@example.net:5061;transport=tcp", "DirectoryNumber": "+4930123456",
         "MaxSessions": 1, "CodecList": ["G.711ALaw"]},
        {"Alias": "line2", "Enable": true, "Network": "isp", "DirectoryNumber": "102"},
        {"Alias": "fax", "Enable": true, "Network": "lan_pbx", "DirectoryNumber": "103"},
        {"Alias": "spare", "Network": "isp"}
      ]}}
    """#
}

/// Bad input never crashes: truncated and corrupted files, and odd strings in the fields that are
/// parsed by hand (hosts, URIs, numbers).
@Suite struct VoiceConfigurationRobustnessTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    @Test func truncatedAndCorruptedFiles() throws {
        let config = try VoiceFixture.parse(VoiceExamples.everyValueChanged).get()
        let bytes = config.serialized()
        var accepted = 0
        for length in 0..<bytes.count {
            if case .success = VoiceConfiguration.parse(Array(bytes[..<length])) { accepted += 1 }
        }
        #expect(accepted == 0)
        var generator = Generator(state: 6)
        let interesting: [UInt8] = Array("\"{}[],:0 -.e\\@\u{7F}".utf8) + [0x00, 0x0A, 0xC3, 0xFF]
        for _ in 0..<1000 {
            var mutated = bytes
            for _ in 0...generator.below(4) {
                let at = generator.below(mutated.count)
                switch generator.below(3) {
                case 0: mutated[at] = interesting[generator.below(interesting.count)]
                case 1: mutated.remove(at: at)
                default: mutated.insert(interesting[generator.below(interesting.count)], at: at)
                }
            }
            // Either result is fine; a valid result must survive its own round trip.
            if case .success(let v) = VoiceConfiguration.parse(mutated) {
                #expect(VoiceConfiguration.parse(v.serialized()) == .success(v))
            }
        }
    }

    @Test func oddStringsInHandParsedFields() {
        let pieces = ["sip:", "sips:", "a", "1", "@", ":", "::", "[", "]", ";", "=", "?", "%", "%4", "%41", ".", "-",
                      "255", "256", "ffff", "é", " ", "\u{0}", "\u{7F}", "0", "65535", "65536", "192.0.2.1", "user=phone"]
        var generator = Generator(state: 42)
        let keys = [("client", "RegisterURI"), ("client", "DirectoryNumber"), ("network", "ProxyServer"),
                    ("network", "ServerDomain"), ("network", "Alias")]
        var accepted = 0
        for _ in 0..<1500 {
            var text = ""
            for _ in 0...generator.below(8) { text += pieces[generator.below(pieces.count)] }
            let (entry, key) = keys[generator.below(keys.count)]
            let change = VoiceFixture.Change.string(key, text)
            let json = entry == "client" ? VoiceFixture.text(client: [change]) : VoiceFixture.text(network: [change])
            switch VoiceFixture.parse(json) {
            case .success(let v):
                accepted += 1
                #expect(VoiceConfiguration.parse(v.serialized()) == .success(v), "\(key) \(text)")
            case .failure(let e):
                #expect(e.field != nil, "\(key) \(text)")
            }
        }
        // Some of the generated values are valid, so both paths ran.
        #expect(accepted > 0)
    }
}
