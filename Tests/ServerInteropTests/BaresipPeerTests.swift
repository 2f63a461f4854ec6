import Testing
import DialtoneTestKit

/// The baresip wrapper against peers that are not Dialtone (another baresip, a SIPp registrar that
/// verifies the digest itself), so the interop tests against dialtoned rest on a checked kit.
@Suite("baresip as a peer", .serialized)
struct BaresipPeerTests {
    /// Caller dials the callee directly; the callee answers by itself (answermode=auto): both see
    /// CALL_ESTABLISHED; the caller hangs up and both see CALL_CLOSED (the callee because of the BYE).
    @Test func directCallAnsweredAutomatically() throws {
        try requireBaresip()
        let callee = try Baresip(accounts: [Baresip.Account(aor: "sip:callee@127.0.0.1", answerMode: .auto)])
        defer { callee.stop() }
        let caller = try Baresip(accounts: [Baresip.Account(aor: "sip:caller@127.0.0.1")])
        defer { caller.stop() }
        let dial = try caller.dial("sip:callee@" + callee.contactHostPort)
        #expect(dial.ok, "dial refused: \(dial.data)")
        let callerUp = caller.waitForEvent("CALL_ESTABLISHED", timeout: 10)
        #expect(callerUp != nil, "caller: \(caller.historySummary)")
        let calleeUp = callee.waitForEvent("CALL_ESTABLISHED", timeout: 10)
        #expect(calleeUp?.direction == "incoming", "callee: \(callee.historySummary)")
        #expect(calleeUp?.peerURI == "sip:caller@127.0.0.1", "callee: \(callee.historySummary)")
        try caller.hangup()
        let calleeClosed = callee.waitForEvent("CALL_CLOSED", timeout: 10)
        #expect(calleeClosed != nil, "callee: \(callee.historySummary)")
        #expect(caller.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "caller: \(caller.historySummary)")
    }

    /// answermode=manual: CALL_INCOMING at the callee and CALL_RINGING (180) at the caller; `accept`
    /// establishes the call; the callee's hangup closes it at the caller.
    @Test func directCallAnsweredByCommand() throws {
        try requireBaresip()
        let callee = try Baresip(accounts: [Baresip.Account(aor: "sip:callee@127.0.0.1", answerMode: .manual)])
        defer { callee.stop() }
        let caller = try Baresip(accounts: [Baresip.Account(aor: "sip:caller@127.0.0.1")])
        defer { caller.stop() }
        try caller.dial("sip:callee@" + callee.contactHostPort)
        let incoming = callee.waitForEvent("CALL_INCOMING", timeout: 10)
        #expect(incoming?.peerURI == "sip:caller@127.0.0.1", "callee: \(callee.historySummary)")
        #expect(caller.waitForEvent("CALL_RINGING", timeout: 10) != nil, "caller: \(caller.historySummary)")
        // Not answered yet: no CALL_ESTABLISHED on either side.
        #expect(caller.waitForEvent("CALL_ESTABLISHED", timeout: 0.5) == nil)
        let accepted = try callee.accept()
        #expect(accepted.ok, "accept: \(accepted.data)")
        #expect(callee.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "callee: \(callee.historySummary)")
        #expect(caller.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "caller: \(caller.historySummary)")
        try callee.hangup()
        #expect(caller.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "caller: \(caller.historySummary)")
    }

    /// baresip's MD5 digest (qop=auth) is accepted by SIPp's own verification (`verifyauth`).
    @Test func registersWithDigestToSIPpRegistrar() throws {
        try requireBaresip()
        try requireSIPp()
        let (event, result) = try registerToSIPp(password: "secret")
        #expect(event?.type == "REGISTER_OK", "\(String(describing: event))")
        #expect(event?.param == "200 OK")
        #expect(result.exitStatus == 0, "\(result.summary)\n\(result.errors)")
    }

    /// A wrong password: SIPp's verification fails, it answers 403, baresip reports REGISTER_FAIL.
    @Test func wrongPasswordIsRefusedBySIPpRegistrar() throws {
        try requireBaresip()
        try requireSIPp()
        let (event, _) = try registerToSIPp(password: "wrong")
        #expect(event?.type == "REGISTER_FAIL", "\(String(describing: event))")
        #expect(event?.param == "403 Forbidden")
    }

    /// Starts the SIPp registrar (one registration), registers a baresip account alice/`password`
    /// to it, returns the first REGISTER_OK/REGISTER_FAIL and SIPp's result.
    func registerToSIPp(password: String) throws -> (Baresip.Event?, SIPpResult) {
        // The remote port is a placeholder: this SIPp only answers, from the -p port it listens on.
        var run = SIPp.Run(scenario: Fixtures.path("sipp/registrar-md5-uas.xml"), port: 9, calls: 1, rate: 1)
        run.timeout = 20
        let (registrar, port) = try startListeningSIPp(run)
        let phone = try Baresip(accounts: [Baresip.Account(aor: "sip:alice@127.0.0.1", password: password,
                                                           outbound: "sip:127.0.0.1:" + String(port),
                                                           registrationInterval: 600)])
        defer { phone.stop() }
        let event = phone.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
        let outcome = try #require(registrar.wait(timeout: 40), "SIPp registrar did not end")
        let result = try outcome.get()
        return (event, result)
    }
}
