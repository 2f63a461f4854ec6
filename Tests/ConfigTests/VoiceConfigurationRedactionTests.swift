import Testing
import Config

/// Passwords never appear in error messages, descriptions, debug descriptions or mirrors.
@Suite struct VoiceConfigurationRedactionTests {
    static let passwords = [VoiceFixture.clientPassword, VoiceFixture.inboundPassword]

    func expectNoPassword(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for password in Self.passwords {
            #expect(!text.contains(password), "\(what) shows a password", sourceLocation: sourceLocation)
        }
    }

    /// Every way a value can be turned into text.
    func renderings<T>(_ value: T) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), String(reflecting: value), "\(value)", dumped]
    }

    @Test func descriptionsAndMirrors() throws {
        let text = VoiceFixture.text(network: [.set("InboundAuth", #""Digest""#)])
        let config = try VoiceFixture.parse(text).get()
        // The passwords are really there, so the test can fail.
        #expect(config.clients[0].authPassword == VoiceFixture.clientPassword)
        #expect(config.networks[0].inboundAuthPassword == VoiceFixture.inboundPassword)
        #expect(String(decoding: config.serialized(), as: UTF8.self).contains(VoiceFixture.clientPassword))

        let line = try #require(config.enabledLines.first)
        let daemon = try DaemonConfiguration.parse(Array(("{\"VoiceService\": " + text + "}").utf8)).get()
        let result: Result<VoiceConfiguration, ConfigError> = .success(config)
        let optional: VoiceConfiguration? = config
        let values: [(String, [String])] = [
            ("VoiceConfiguration", renderings(config)),
            ("SIPNetworkConfiguration", renderings(config.networks[0])),
            ("SIPClientConfiguration", renderings(config.clients[0])),
            ("[SIPClientConfiguration]", renderings(config.clients)),
            ("Line", renderings(line)),
            ("[Line]", renderings(config.enabledLines)),
            ("DaemonConfiguration", renderings(daemon)),
            ("Result", renderings(result)),
            ("Optional", renderings(optional))
        ]
        for (name, texts) in values {
            for (i, rendered) in texts.enumerated() {
                expectNoPassword(rendered, "\(name) rendering \(i)")
            }
        }
        // What is shown instead: the user names, and that a password is set.
        #expect(config.clients[0].description.contains("alice"))
        #expect(config.clients[0].description.contains("authPassword: <redacted>"))
        #expect(config.networks[0].description.contains("inboundAuthPassword: <redacted>"))
        #expect(SIPClientConfiguration(alias: "l").description.contains("authPassword: <empty>"))
    }

    /// A password written into the RegisterURI of a value built in code is hidden too, and rejected.
    @Test func passwordInRegisterURI() throws {
        let uri = "sip:alice:" + VoiceFixture.clientPassword + "@example.net"
        let client = SIPClientConfiguration(alias: "line1", enable: true, network: "isp", registerURI: uri)
        for (i, rendered) in renderings(client).enumerated() {
            expectNoPassword(rendered, "client rendering \(i)")
        }
        let config = VoiceConfiguration(networks: [SIPNetworkConfiguration(alias: "isp", enable: true, serverDomain: "example.net")],
                                        clients: [client])
        guard case .failure(let error) = config.validated() else {
            Issue.record("a RegisterURI with a password was accepted")
            return
        }
        #expect(error.field == "VoiceService.SIP.Client.1.RegisterURI")
        expectNoPassword(error.description, "error")
        let line = VoiceConfiguration.Line(client: client, network: config.networks[0], clientNumber: 1, networkNumber: 1,
                                           addressOfRecord: uri, codecs: [.g711MuLaw])
        for (i, rendered) in renderings(line).enumerated() {
            expectNoPassword(rendered, "line rendering \(i)")
        }
    }

    /// No error of any rule quotes a password, including the rules about the passwords themselves.
    @Test func errorMessages() throws {
        var cases = VoiceConfigurationRuleTests.networkCases + VoiceConfigurationRuleTests.clientCases
        let longClient = String(repeating: VoiceFixture.clientPassword, count: 8)
        let longInbound = String(repeating: VoiceFixture.inboundPassword, count: 15)
        cases.append(.cli([.string("AuthPassword", longClient)], "AuthPassword", "invalid-value"))
        cases.append(.net([.string("InboundAuthPassword", longInbound)], "InboundAuthPassword", "invalid-value"))
        cases.append(.cli([.string("RegisterURI", "sip:alice:" + VoiceFixture.clientPassword + "@example.net")], "RegisterURI", "invalid-value"))
        cases.append(.cli([.string("RegisterURI", "sip:alice:" + VoiceFixture.clientPassword + "@example.net:99999")], "RegisterURI", "invalid-value"))
        var checked = 0
        for rule in cases {
            let text = VoiceFixture.text(network: rule.network, client: rule.client)
            guard let error = VoiceFixture.error(text) else {
                Issue.record("accepted: \(rule.testDescription)")
                continue
            }
            #expect(error.field == "VoiceService.SIP." + rule.field)
            expectNoPassword(error.description, "error for \(rule.field)")
            expectNoPassword(String(reflecting: error), "error for \(rule.field)")
            checked += 1
        }
        #expect(checked == cases.count)
        #expect(checked > 150)
    }
}
