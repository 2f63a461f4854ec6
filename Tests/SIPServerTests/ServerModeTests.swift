import Testing
import SIPServer

@Suite struct ServerModeTests {
    @Test func configurationSpellings() {
        #expect(ServerMode(configValue: "stateful-proxy") == .statefulProxy)
        #expect(ServerMode(configValue: "stateless-proxy") == .statelessProxy)
        #expect(ServerMode(configValue: "redirect") == .redirect)
        #expect(ServerMode(configValue: "Redirect") == nil)
        #expect(ServerMode(configValue: "") == nil)
        #expect(ServerMode.allCases.count == 3)
    }
}
