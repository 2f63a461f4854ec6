import Testing
import Config

/// One broken value and the error it must give.
struct RuleCase: Sendable, CustomTestStringConvertible {
    var network: [VoiceFixture.Change] = []
    var client: [VoiceFixture.Change] = []
    /// The field after `VoiceService.SIP.`.
    var field: String
    var code: String

    var testDescription: String {
        let changes = (network + client).map { "\($0.key)=\($0.json ?? "(removed)")" }.joined(separator: " ")
        return "\(field) \(code) [\(changes.prefix(90))]"
    }

    static func net(_ changes: [VoiceFixture.Change], _ field: String, _ code: String) -> RuleCase {
        RuleCase(network: changes, field: "Network.1." + field, code: code)
    }

    static func cli(_ changes: [VoiceFixture.Change], _ field: String, _ code: String) -> RuleCase {
        RuleCase(client: changes, field: "Client.1." + field, code: code)
    }
}

typealias C = VoiceFixture.Change

let wrongType = "wrong-type"
let invalid = "invalid-value"
let missing = "missing-value"
let unknown = "unknown-key"

@Suite struct VoiceConfigurationRuleTests {
    static let networkCases: [RuleCase] = [
        // Alias
        .net([.remove("Alias")], "Alias", missing),
        .net([.set("Alias", "5")], "Alias", wrongType),
        .net([.set("Alias", #""""#)], "Alias", invalid),
        .net([.set("Alias", #""1isp""#)], "Alias", invalid),
        .net([.set("Alias", #""is p""#)], "Alias", invalid),
        .net([.set("Alias", #""is.p""#)], "Alias", invalid),
        .net([.string("Alias", "i" + String(repeating: "s", count: 64))], "Alias", invalid),
        // keys and types
        .net([.set("Realm", #""x""#)], "Realm", unknown),
        .net([.set("proxyServer", #""x""#)], "proxyServer", unknown),
        .net([.set("Enable", "1")], "Enable", wrongType),
        .net([.set("Enable", #""true""#)], "Enable", wrongType),
        .net([.set("ProxyServer", "5")], "ProxyServer", wrongType),
        .net([.set("ProxyServer", "null")], "ProxyServer", wrongType),
        .net([.set("NoLoginRetry", #""no""#)], "NoLoginRetry", wrongType),
        .net([.set("RegisterExpires", #""3600""#)], "RegisterExpires", wrongType),
        .net([.set("RegisterExpires", "3600.5")], "RegisterExpires", wrongType),
        .net([.set("InboundAuthPassword", "1234")], "InboundAuthPassword", wrongType),
        // ports
        .net([.set("ProxyServerPort", "0")], "ProxyServerPort", invalid),
        .net([.set("ProxyServerPort", "65536")], "ProxyServerPort", invalid),
        .net([.set("ProxyServerPort", "-5060")], "ProxyServerPort", invalid),
        .net([.set("ProxyServerPort", #""5060""#)], "ProxyServerPort", wrongType),
        .net([.set("ProxyServerPort", "5060.5")], "ProxyServerPort", wrongType),
        .net([.set("RegistrarServerPort", "0")], "RegistrarServerPort", invalid),
        .net([.set("OutboundProxyPort", "0")], "OutboundProxyPort", invalid),
        .net([.set("X_DIALTONE_BackupProxyPort", "0")], "X_DIALTONE_BackupProxyPort", invalid),
        .net([.set("X_DIALTONE_BackupProxyPort", "70000")], "X_DIALTONE_BackupProxyPort", invalid),
        .net([.set("UserAgentPort", "-1")], "UserAgentPort", invalid),
        .net([.set("UserAgentPort", "65536")], "UserAgentPort", invalid),
        // transports
        .net([.set("ProxyServerTransport", #""SCTP""#)], "ProxyServerTransport", "unsupported"),
        .net([.set("RegistrarServerTransport", #""SCTP""#)], "RegistrarServerTransport", "unsupported"),
        .net([.set("UserAgentTransport", #""SCTP""#)], "UserAgentTransport", "unsupported"),
        .net([.set("ProxyServerTransport", #""udp""#)], "ProxyServerTransport", invalid),
        .net([.set("UserAgentTransport", #""QUIC""#)], "UserAgentTransport", invalid),
        .net([.set("RegistrarServerTransport", "17")], "RegistrarServerTransport", wrongType),
        // hosts
        .net([.set("ProxyServer", #""sip example.net""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #"" ""#)], "ProxyServer", invalid),
        .net([.string("ProxyServer", "sip.example.net\u{1}")], "ProxyServer", invalid),
        .net([.string("ProxyServer", "sip.example.net\n")], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""sip.example.net:5060""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""192.0.2.10:5060""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""192.0.2.256""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""192.0.2""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""sip:sip.example.net""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""[2001:db8::1""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""[2001:db8::1]:5060""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""2001:db8::1::2""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""2001:db8:::1""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""1:2:3:4:5:6:7:8:9""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""1:2:3:4:5:6:7""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""12345::1""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""::ffff:192.0.2.300""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""fe80::1%eth0""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""-sip.example.net""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""sip..example.net""#)], "ProxyServer", invalid),
        .net([.set("ProxyServer", #""sip.example.123""#)], "ProxyServer", invalid),
        .net([.string("ProxyServer", String(repeating: "a.", count: 128) + "net")], "ProxyServer", invalid),
        .net([.string("ProxyServer", String(repeating: "a", count: 64) + ".example.net")], "ProxyServer", invalid),
        .net([.set("RegistrarServer", #""sip_registrar.example.net""#)], "RegistrarServer", invalid),
        .net([.set("ServerDomain", #""exa mple.net""#)], "ServerDomain", invalid),
        .net([.set("UserAgentDomain", #""-""#)], "UserAgentDomain", invalid),
        .net([.set("OutboundProxy", #""proxy example.net""#)], "OutboundProxy", invalid),
        .net([.set("X_DIALTONE_BackupProxy", #""backup!.example.net""#)], "X_DIALTONE_BackupProxy", invalid),
        // registration timers
        .net([.set("RegisterExpires", "59")], "RegisterExpires", invalid),
        .net([.set("RegisterExpires", "86401")], "RegisterExpires", invalid),
        .net([.set("RegisterRetryInterval", "0")], "RegisterRetryInterval", invalid),
        .net([.set("RegisterRetryInterval", "86401")], "RegisterRetryInterval", invalid),
        .net([.set("TimerLoginRejected", "0")], "TimerLoginRejected", invalid),
        .net([.set("TimerLoginRejected", "86401")], "TimerLoginRejected", invalid),
        // SIP timers
        .net([.set("TimerT1", "0")], "TimerT1", invalid),
        .net([.set("TimerT1", "-500")], "TimerT1", invalid),
        .net([.set("TimerT2", "400")], "TimerT2", invalid),
        .net([.set("TimerT1", "5000"), .set("TimerT2", "4999")], "TimerT2", invalid),
        .net([.set("TimerT4", "0")], "TimerT4", invalid),
        .net([.set("TimerT4", "4294967296")], "TimerT4", invalid),
        // inbound authentication
        .net([.set("InboundAuth", #""Basic""#)], "InboundAuth", invalid),
        .net([.set("InboundAuth", #""digest""#)], "InboundAuth", invalid),
        .net([.set("InboundAuth", #""Digest""#), .remove("InboundAuthUsername"), .remove("InboundAuthPassword")], "InboundAuthUsername", missing),
        .net([.set("InboundAuth", #""Digest""#), .remove("InboundAuthPassword")], "InboundAuthPassword", missing),
        .net([.set("InboundAuth", #""Digest""#), .set("InboundAuthPassword", #""""#)], "InboundAuthPassword", missing),
        .net([.set("InboundAuth", #""Digest""#), .remove("InboundAuthUsername")], "InboundAuthUsername", missing),
        .net([.string("InboundAuthUsername", String(repeating: "u", count: 257))], "InboundAuthUsername", invalid),
        .net([.string("InboundAuthUsername", "us\u{7}er")], "InboundAuthUsername", invalid),
        .net([.string("InboundAuthPassword", String(repeating: "p", count: 257))], "InboundAuthPassword", invalid),
        // codecs
        .net([.set("CodecList", #"["G.711MuLaw", "G.999"]"#)], "CodecList", invalid),
        .net([.set("CodecList", #"["PCMU"]"#)], "CodecList", invalid),
        .net([.set("CodecList", #"["g.711mulaw"]"#)], "CodecList", invalid),
        .net([.set("CodecList", "[]")], "CodecList", invalid),
        .net([.set("CodecList", #"["G.722", "G.711ALaw", "G.722"]"#)], "CodecList", invalid),
        .net([.set("CodecList", #""G.711MuLaw""#)], "CodecList", wrongType),
        .net([.set("CodecList", "[0]")], "CodecList", wrongType),
        // keepalive
        .net([.set("X_DIALTONE_KeepAliveInterval", "4")], "X_DIALTONE_KeepAliveInterval", invalid),
        .net([.set("X_DIALTONE_KeepAliveInterval", "3601")], "X_DIALTONE_KeepAliveInterval", invalid),
        .net([.set("X_DIALTONE_KeepAliveInterval", "-1")], "X_DIALTONE_KeepAliveInterval", invalid),
        .net([.set("X_DIALTONE_KeepAliveInterval", "true")], "X_DIALTONE_KeepAliveInterval", wrongType),
        .net([.set("X_DIALTONE_KeepAliveMethod", #""Ping""#)], "X_DIALTONE_KeepAliveMethod", invalid),
        .net([.set("X_DIALTONE_KeepAliveMethod", #""crlf""#)], "X_DIALTONE_KeepAliveMethod", invalid),
        // digest algorithms
        .net([.set("X_DIALTONE_DigestAlgorithms", "[]")], "X_DIALTONE_DigestAlgorithms", invalid),
        .net([.set("X_DIALTONE_DigestAlgorithms", #"["MD5-sess"]"#)], "X_DIALTONE_DigestAlgorithms", invalid),
        .net([.set("X_DIALTONE_DigestAlgorithms", #"["SHA-1"]"#)], "X_DIALTONE_DigestAlgorithms", invalid),
        .net([.set("X_DIALTONE_DigestAlgorithms", #"["MD5", "md5"]"#)], "X_DIALTONE_DigestAlgorithms", invalid),
        .net([.set("X_DIALTONE_DigestAlgorithms", #"["", "MD5"]"#)], "X_DIALTONE_DigestAlgorithms", invalid),
        .net([.set("X_DIALTONE_DigestAlgorithms", #""MD5""#)], "X_DIALTONE_DigestAlgorithms", wrongType),
        .net([.set("X_DIALTONE_DigestAlgorithms", "[5]")], "X_DIALTONE_DigestAlgorithms", wrongType)
    ]

    static let clientCases: [RuleCase] = [
        // Alias, keys, types
        .cli([.remove("Alias")], "Alias", missing),
        .cli([.set("Alias", "[]")], "Alias", wrongType),
        .cli([.set("Alias", #""line 1""#)], "Alias", invalid),
        .cli([.set("Alias", #""_line""#)], "Alias", invalid),
        .cli([.set("Password", #""x""#)], "Password", unknown),
        .cli([.set("Enable", #""yes""#)], "Enable", wrongType),
        .cli([.set("AuthUserName", "null")], "AuthUserName", wrongType),
        .cli([.set("MaxSessions", #""2""#)], "MaxSessions", wrongType),
        .cli([.set("MaxSessions", "-1")], "MaxSessions", invalid),
        .cli([.set("MaxSessions", "4294967296")], "MaxSessions", invalid),
        // Network reference
        .cli([.set("Network", "1")], "Network", wrongType),
        .cli([.set("Network", #""ISP""#)], "Network", invalid),
        .cli([.set("Network", #""nowhere""#), .set("Enable", "false")], "Network", invalid),
        .cli([.set("Network", #""""#)], "Network", missing),
        .cli([.remove("Network")], "Network", missing),
        RuleCase(network: [.remove("ProxyServer"), .remove("ServerDomain")], field: "Client.1.Network", code: missing),
        // credentials (optional, but bounded)
        .cli([.string("AuthUserName", String(repeating: "u", count: 129))], "AuthUserName", invalid),
        .cli([.string("AuthUserName", "al\nice")], "AuthUserName", invalid),
        .cli([.string("AuthPassword", String(repeating: "p", count: 129))], "AuthPassword", invalid),
        // address-of-record
        .cli([.remove("RegisterURI")], "RegisterURI", missing),
        .cli([.set("RegisterURI", #""""#)], "RegisterURI", missing),
        RuleCase(network: [.remove("ServerDomain")], client: [.remove("RegisterURI"), .set("DirectoryNumber", #""101""#)],
                 field: "Client.1.RegisterURI", code: missing),
        .cli([.set("RegisterURI", #""tel:+15550100""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""alice@example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:@example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice:hunter2@example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@exa mple.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:al ice@example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:al%zzice@example.net""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net:0""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net:65536""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net:""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net?subject=x""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net;""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@example.net>""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@[2001:db8::1""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""sip:alice@2001:db8::1""#)], "RegisterURI", invalid),
        .cli([.set("RegisterURI", #""<sip:alice@example.net>""#)], "RegisterURI", invalid),
        .cli([.string("RegisterURI", "sip:" + String(repeating: "a", count: 374) + "@example.net")], "RegisterURI", invalid),
        .cli([.set("RegisterURI", "42")], "RegisterURI", wrongType),
        .cli([.set("DirectoryNumber", #""10#1""#)], "DirectoryNumber", invalid),
        .cli([.set("DirectoryNumber", #""10 1""#)], "DirectoryNumber", invalid),
        .cli([.set("DirectoryNumber", #""10@1""#)], "DirectoryNumber", invalid),
        .cli([.string("DirectoryNumber", String(repeating: "1", count: 33))], "DirectoryNumber", invalid),
        .cli([.set("DirectoryNumber", "101")], "DirectoryNumber", wrongType),
        // codecs
        .cli([.set("CodecList", #"["G.711ALaw", "G.711ALaw"]"#)], "CodecList", invalid),
        .cli([.set("CodecList", #"["iLBC"]"#)], "CodecList", invalid),
        .cli([.set("CodecList", "{}")], "CodecList", wrongType)
    ]

    func check(_ rule: RuleCase) {
        let text = VoiceFixture.text(network: rule.network, client: rule.client)
        guard let error = VoiceFixture.error(text) else {
            Issue.record("accepted: \(text)")
            return
        }
        #expect(error.field == "VoiceService.SIP." + rule.field, "\(error)")
        #expect(error.code.rawValue == rule.code, "\(error)")
        #expect(!error.message.isEmpty)
    }

    @Test(arguments: VoiceConfigurationRuleTests.networkCases)
    func networkRule(_ rule: RuleCase) {
        check(rule)
    }

    @Test(arguments: VoiceConfigurationRuleTests.clientCases)
    func clientRule(_ rule: RuleCase) {
        check(rule)
    }

    /// The base the cases change is itself valid, so each case fails for its own change.
    @Test func baseIsValid() throws {
        let config = try VoiceFixture.parse(VoiceFixture.text()).get()
        #expect(config.enabledLines.count == 1)
    }

    @Test func sctpIsNamedUnsupported() throws {
        let error = try #require(VoiceFixture.error(VoiceFixture.text(network: [.set("ProxyServerTransport", #""SCTP""#)])))
        #expect(error.code == .unsupported)
        #expect(error.message.contains("not supported"))
    }

    @Test func unknownCodecListsTheAcceptedNames() throws {
        let error = try #require(VoiceFixture.error(VoiceFixture.text(network: [.set("CodecList", #"["G.711MuLaw", "AMR"]"#)])))
        #expect(error.message.contains("'AMR'"))
        #expect(error.message.contains("item 2"))
        for name in ["G.711MuLaw", "G.711ALaw", "G.722", "G.726", "G.729", "Opus"] {
            #expect(error.message.contains(name), "\(name) missing from: \(error.message)")
        }
    }

    @Test func rangeMessagesSayTheRange() throws {
        let expires = try #require(VoiceFixture.error(VoiceFixture.text(network: [.set("RegisterExpires", "30")])))
        #expect(expires.message == "must be between 60 and 86400, not 30")
        let t2 = try #require(VoiceFixture.error(VoiceFixture.text(network: [.set("TimerT2", "499")])))
        #expect(t2.message == "must be at least TimerT1 (500), not 499")
        let keepAlive = try #require(VoiceFixture.error(VoiceFixture.text(network: [.set("X_DIALTONE_KeepAliveInterval", "2")])))
        #expect(keepAlive.message == "must be 0 (off) or between 5 and 3600, not 2")
    }

    @Test func keyWrittenTwice() throws {
        let network = #"{"Alias": "isp", "Enable": true, "ProxyServer": "a.example.net", "ProxyServer": "b.example.net"}"#
        let error = try #require(VoiceFixture.error(VoiceFixture.voice(networks: [network], clients: [])))
        #expect(error.field == "VoiceService.SIP.Network.1.ProxyServer")
        #expect(error.code == .invalidValue)
    }

    // MARK: Structure

    @Test func sectionStructure() {
        let cases: [(String, String, ConfigError.Code)] = [
            ("[]", "VoiceService", .wrongType),
            (#"{"SIP": []}"#, "VoiceService.SIP", .wrongType),
            (#"{"CallControl": {}}"#, "VoiceService.CallControl", .unknownKey),
            (#"{"SIP": {"Proxy": []}}"#, "VoiceService.SIP.Proxy", .unknownKey),
            (#"{"SIP": {"Network": {}}}"#, "VoiceService.SIP.Network", .wrongType),
            (#"{"SIP": {"Client": "line1"}}"#, "VoiceService.SIP.Client", .wrongType),
            (#"{"SIP": {"Network": [{"Alias": "isp"}, 5]}}"#, "VoiceService.SIP.Network.2", .wrongType),
            (#"{"SIP": {"Client": [null]}}"#, "VoiceService.SIP.Client.1", .wrongType),
            (#"{"SIP": {}, "SIP": {}}"#, "VoiceService.SIP", .invalidValue),
            ("{", "VoiceService", .notJSON),
            (#"{"SIP": {"Network": [{"Alias": "a"}, {"Alias": "b", "TimerT1": 0}]}}"#, "VoiceService.SIP.Network.2.TimerT1", .invalidValue),
            (#"{"SIP": {"Client": [{"Alias": "a"}, {"Alias": "b"}, {"Alias": "c", "MaxSessions": -2}]}}"#,
             "VoiceService.SIP.Client.3.MaxSessions", .invalidValue)
        ]
        for (text, field, code) in cases {
            let error = VoiceFixture.error(text)
            #expect(error?.field == field, "\(text)")
            #expect(error?.code == code, "\(text)")
        }
    }

    // MARK: Rules across entries

    @Test func duplicateNetworkAlias() throws {
        let second = VoiceFixture.object(VoiceFixture.network, [.set("ProxyServer", #""other.example.net""#)])
        let text = VoiceFixture.voice(networks: [VoiceFixture.object(VoiceFixture.network, []), second],
                                      clients: [VoiceFixture.object(VoiceFixture.client, [])])
        let error = try #require(VoiceFixture.error(text))
        #expect(error.field == "VoiceService.SIP.Network.2.Alias")
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("Network.1"))
    }

    @Test func duplicateClientAlias() throws {
        let second = VoiceFixture.object(VoiceFixture.client, [.set("RegisterURI", #""sip:bob@example.net""#)])
        let text = VoiceFixture.voice(networks: [VoiceFixture.object(VoiceFixture.network, [])],
                                      clients: [VoiceFixture.object(VoiceFixture.client, []), second])
        let error = try #require(VoiceFixture.error(text))
        #expect(error.field == "VoiceService.SIP.Client.2.Alias")
        #expect(error.code == .invalidValue)
    }

    /// Two enabled clients registering the same address-of-record, in the spellings that name the
    /// same registration: host case, escapes, sip/sips, a DirectoryNumber-derived AOR.
    @Test(arguments: [
        #""RegisterURI": "sip:alice@example.net""#,
        #""RegisterURI": "sip:alice@EXAMPLE.NET""#,
        #""RegisterURI": "sip:%61lice@example.net""#,
        #""RegisterURI": "sips:alice@example.net""#,
        #""RegisterURI": "sip:alice@example.net;user=phone""#,
        #""RegisterURI": "", "DirectoryNumber": "alice""#
    ])
    func duplicateAddressOfRecord(_ second: String) throws {
        let client2 = #"{"Alias": "line2", "Enable": true, "Network": "isp", "#
            + second + "}"
        let text = VoiceFixture.voice(networks: [VoiceFixture.object(VoiceFixture.network, [])],
                                      clients: [VoiceFixture.object(VoiceFixture.client, []), client2])
        let error = try #require(VoiceFixture.error(text))
        let field = second.contains("DirectoryNumber") ? "DirectoryNumber" : "RegisterURI"
        #expect(error.field == "VoiceService.SIP.Client.2." + field, "\(error)")
        #expect(error.code == .invalidValue)
        #expect(error.message.contains("Client.1"))
    }

    /// Not the same registration, or not both enabled: accepted.
    @Test(arguments: [
        #""Enable": true, "RegisterURI": "sip:Alice@example.net""#,
        #""Enable": true, "RegisterURI": "sip:alice@example.net:5070""#,
        #""Enable": true, "RegisterURI": "sip:alice@other.example.net""#,
        #""Enable": false, "RegisterURI": "sip:alice@example.net""#
    ])
    func distinctAddressesOfRecord(_ second: String) throws {
        let client2 = #"{"Alias": "line2", "Network": "isp", "# + second + "}"
        let text = VoiceFixture.voice(networks: [VoiceFixture.object(VoiceFixture.network, [])],
                                      clients: [VoiceFixture.object(VoiceFixture.client, []), client2])
        let config = try VoiceFixture.parse(text).get()
        #expect(config.clients.count == 2)
    }

    /// Rules for running lines apply to enabled clients only; field rules to all.
    @Test func disabledClientNeedsNoAddressOfRecordButValidFields() throws {
        let idle = VoiceFixture.text(client: [.set("Enable", "false"), .remove("RegisterURI"), .remove("Network")])
        let config = try VoiceFixture.parse(idle).get()
        #expect(config.enabledLines.isEmpty)
        let broken = VoiceFixture.text(client: [.set("Enable", "false"), .set("RegisterURI", #""sip:example.net""#)])
        #expect(VoiceFixture.error(broken)?.field == "VoiceService.SIP.Client.1.RegisterURI")
    }

    /// Validation also applies to values built in code.
    @Test func validatedChecksValuesBuiltInCode() throws {
        var network = SIPNetworkConfiguration(alias: "isp", enable: true, proxyServer: "[2001:DB8::10]")
        let client = SIPClientConfiguration(alias: "line1", enable: true, network: "isp", directoryNumber: "101")
        // No ServerDomain: a DirectoryNumber alone is no address-of-record.
        let noDomain = VoiceConfiguration(networks: [network], clients: [client]).validated()
        #expect(noDomain.error?.field == "VoiceService.SIP.Client.1.RegisterURI")
        network.serverDomain = "Example.NET"
        let config = try VoiceConfiguration(networks: [network], clients: [client]).validated().get()
        #expect(config.networks[0].proxyServer == "2001:db8::10")
        #expect(config.networks[0].serverDomain == "example.net")
        #expect(config.enabledLines.first?.addressOfRecord == "sip:101@example.net")

        let cases: [(SIPNetworkConfiguration, String)] = [
            (SIPNetworkConfiguration(alias: "isp", proxyServerPort: 0), "ProxyServerPort"),
            (SIPNetworkConfiguration(alias: "isp", registrarServerPort: 0), "RegistrarServerPort"),
            (SIPNetworkConfiguration(alias: "isp", outboundProxyPort: 0), "OutboundProxyPort"),
            (SIPNetworkConfiguration(alias: "isp", backupProxyPort: 0), "X_DIALTONE_BackupProxyPort"),
            (SIPNetworkConfiguration(alias: "isp", proxyServer: ""), "ProxyServer"),
            (SIPNetworkConfiguration(alias: "isp", codecList: []), "CodecList"),
            (SIPNetworkConfiguration(alias: "isp", digestAlgorithms: []), "X_DIALTONE_DigestAlgorithms"),
            (SIPNetworkConfiguration(alias: ""), "Alias")
        ]
        for (bad, field) in cases {
            let result = VoiceConfiguration(networks: [bad]).validated()
            #expect(result.error?.field == "VoiceService.SIP.Network.1." + field)
        }
        let emptyNetwork = VoiceConfiguration(networks: [network], clients: [SIPClientConfiguration(alias: "l", network: "")])
        #expect(emptyNetwork.validated().error?.field == "VoiceService.SIP.Client.1.Network")
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
