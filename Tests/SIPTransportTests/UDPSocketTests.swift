import Testing
import SIPTransport

@Suite("UDP socket binding")
struct UDPSocketTests {
    /// SO_REUSEADDR lets the endpoint's connected flows share its port, but a second daemon (or a
    /// test picking the same "free" port) must not silently share a listening port: the second
    /// bind of a port in use fails, saying so.
    @Test func aPortInUseIsRefused() throws {
        let first = try UDPSocket(host: "127.0.0.1", port: 0)
        var failure = ""
        do {
            _ = try UDPSocket(host: "127.0.0.1", port: first.local.port)
        } catch {
            failure = "\(error)"
        }
        #expect(failure.contains("in use"), "second bind: \(failure.isEmpty ? "succeeded" : failure)")
        // The wildcard address conflicts with a specific one on the same port, too.
        do {
            _ = try UDPSocket(host: "0.0.0.0", port: first.local.port)
            Issue.record("0.0.0.0 bound on a port 127.0.0.1 holds")
        } catch {}
        withExtendedLifetime(first) {}
    }
}
