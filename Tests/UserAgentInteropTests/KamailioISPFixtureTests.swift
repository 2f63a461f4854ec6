#if canImport(Glibc)
import Glibc
#endif
import Testing
import DialtoneTestKit

/// The peers' side of the user agent interop tests (issue 6 item 5), proven with baresip and raw
/// datagrams before Dialtone uses it: Kamailio as the ISP (Tests/Fixtures/kamailio/isp.cfg,
/// isp-redirect.cfg through `KamailioISP`), a network namespace with a veth (`NetworkNamespace`), and
/// dnsmasq serving the ISP's SRV records (`Dnsmasq(sipDomain:servers:)`).
@Suite("Kamailio ISP fixtures, proven with baresip", .serialized)
struct KamailioISPFixtureTests {
    static let users = [KamailioISP.Subscriber("alice", "secret"), KamailioISP.Subscriber("bob", "secret"),
                        KamailioISP.Subscriber("carol", "c:ol\\on")]

    // MARK: files

    /// Both fixtures fill completely; a placeholder without a value is reported (so the check can
    /// fail); the subscriber table has db_text's header and HA1 values computed independently
    /// (Python hashlib: md5("alice:127.0.0.1:secret"), md5("alice@127.0.0.1:127.0.0.1:secret")).
    @Test func fixturesFillAndTheSubscriberTableIsWhatDbTextReads() throws {
        var options = KamailioISP.Options(subscribers: Self.users)
        options.minExpires = 7
        let values = KamailioISP.placeholders(options, port: 5099, domain: "isp.test", realm: "isp.test",
                                              database: "/tmp/db", controlSocket: "/tmp/ctl.sock")
        for fixture in ["kamailio/isp.cfg", "kamailio/isp-redirect.cfg"] {
            let text = try KamailioISP.fill(Fixtures.text(fixture), values)
            #expect(text.contains("listen=udp:127.0.0.1:5099"), "\(fixture)")
            #expect(text.contains("modparam(\"registrar\", \"min_expires\", 7)"), "\(fixture)")
            #expect(text.contains("text:///tmp/db"), "\(fixture)")
            #expect(text.contains("maxbuffer=4194304"), "\(fixture)")
        }
        let redirect = try KamailioISP.fill(Fixtures.text("kamailio/isp-redirect.cfg"), values)
        #expect(redirect.contains("$ru = \"sip:bob@127.0.0.1:5099\";"))
        #expect(throws: SubprocessError.self) { try KamailioISP.fill("listen=@LISTEN_ADDRESS@:@NOT_GIVEN@\n", values) }

        let table = KamailioISP.subscriberTable(Self.users, domain: "127.0.0.1", realm: "127.0.0.1")
        let lines = table.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.first == "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) ")
        #expect(lines.dropFirst().first == "1:alice:127.0.0.1:secret:18af59e93bb3331aac9fe77419a6ec78:2c5918d7c8fc570b4a35f4eec37ecf8e")
        #expect(lines.last?.hasPrefix("3:carol:127.0.0.1:c\\:ol\\\\on:") == true, "\(table)")
        let sha = KamailioISP.subscriberTable([Self.users[0]], domain: "isp.test", realm: "isp.test", hash: .sha256)
        #expect(sha.contains(":cbb88a40bd75cfcb2b175fb9f56ef63aaa3a65270a430b61be7b51b364f56b6f:"), "\(sha)")
    }

    /// The `kamcmd ul.dump` parser on a dump captured from Kamailio 5.6.3.
    @Test func usrlocDumpParses() {
        let dump = """
            {
            \tDomains: {
            \t\tDomain: {
            \t\t\tDomain: location
            \t\t\tAoRs: {
            \t\t\t\tInfo: {
            \t\t\t\t\tAoR: alice
            \t\t\t\t\tContacts: {
            \t\t\t\t\t\tContact: {
            \t\t\t\t\t\t\tAddress: sip:alice@127.0.0.1:54953
            \t\t\t\t\t\t\tExpires: 600
            \t\t\t\t\t\t\tQ: -1
            \t\t\t\t\t\t\tCall-ID: c1
            \t\t\t\t\t\t\tCSeq: 2
            \t\t\t\t\t\t\tUser-Agent: n/a
            \t\t\t\t\t\t\tReceived: [not set]
            \t\t\t\t\t\t\tSocket: udp:127.0.0.1:25060
            \t\t\t\t\t\t}
            \t\t\t\t\t\tContact: {
            \t\t\t\t\t\t\tAddress: sip:alice@127.0.0.1:5070;transport=tcp
            \t\t\t\t\t\t\tExpires: permanent
            \t\t\t\t\t\t\tUser-Agent: baresip v1.0.0
            \t\t\t\t\t\t\tReceived: sip:192.0.2.9:5070
            \t\t\t\t\t\t}
            \t\t\t\t\t}
            \t\t\t\t}
            \t\t\t}
            \t\t}
            \t}
            }
            """
        let list = KamailioISP.parseDump(dump)
        #expect(list.count == 2)
        #expect(list.first?.aor == "alice")
        #expect(list.first?.contact == "sip:alice@127.0.0.1:54953")
        #expect(list.first?.expires == 600)
        #expect(list.first?.cseq == 2)
        #expect(list.first?.userAgent == nil)
        #expect(list.first?.received == nil)
        #expect(list.first?.socket == "udp:127.0.0.1:25060")
        #expect(list.last?.expires == nil)
        #expect(list.last?.userAgent == "baresip v1.0.0")
        #expect(list.last?.received == "sip:192.0.2.9:5070")
        #expect(KamailioISP.parseDump("").isEmpty)
    }

    // MARK: registrar with digest, with baresip

    /// Two baresip phones register with digest (REGISTER_OK); Kamailio's usrloc then holds each phone's
    /// contact (its SIP port on 127.0.0.1) under its user.
    @Test func twoPhonesRegisterWithDigest() throws {
        try requirePeers()
        let isp = try KamailioISP(KamailioISP.Options(subscribers: Self.users))
        defer { isp.stop() }
        let alice = try registeredPhone("alice", at: isp)
        defer { alice.stop() }
        let bob = try registeredPhone("bob", at: isp)
        defer { bob.stop() }

        let aliceContact = isp.waitForRegistration(of: "alice", timeout: 5) { $0.contact.contains(alice.contactHostPort) }
        #expect(aliceContact != nil, "usrloc: \((try? isp.registrations()) ?? [])")
        #expect(aliceContact?.userAgent?.contains("baresip") == true, "\(String(describing: aliceContact))")
        #expect((aliceContact?.expires ?? 0) > 500, "\(String(describing: aliceContact))")
        let bobContact = isp.waitForRegistration(of: "bob", timeout: 5) { $0.contact.contains(bob.contactHostPort) }
        #expect(bobContact != nil, "usrloc: \((try? isp.registrations()) ?? [])")
        #expect(try isp.contacts(of: "carol").isEmpty)
    }

    /// A wrong password: Kamailio answers the credentials with 403 (no second challenge) and baresip
    /// reports REGISTER_FAIL; nothing is in usrloc. The user "forbidden" gets 403 before any
    /// challenge, an unknown user 403 after one.
    @Test func wrongPasswordUnknownUserAndForbiddenFail() throws {
        try requirePeers()
        let isp = try KamailioISP(KamailioISP.Options(subscribers: Self.users))
        defer { isp.stop() }
        for (user, password) in [("alice", "not-the-password"), ("mallory", "secret"), ("forbidden", "secret")] {
            let phone = try Baresip(accounts: [account(user, password: password, at: isp, registrationInterval: 600)])
            defer { phone.stop() }
            let event = phone.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
            #expect(event?.type == "REGISTER_FAIL", "\(user): \(phone.historySummary)\n\(isp.output.suffix(2000))")
            #expect(event?.param == "403 Forbidden", "\(user): \(phone.historySummary)")
            #expect(try isp.contacts(of: user).isEmpty, "\(user)")
        }
    }

    // MARK: calls through the proxy

    /// alice calls bob through Kamailio (domain isp.test, both phones using Kamailio as outbound
    /// proxy): the INVITE is challenged with 407 and sent again with credentials, Kamailio
    /// record-routes it to bob's registered contact, both sides see CALL_ESTABLISHED, alice hangs up
    /// and bob's call closes (the BYE follows the Record-Route).
    @Test func callBetweenTwoPhonesThroughTheISP() throws {
        try requirePeers()
        var options = KamailioISP.Options(subscribers: Self.users)
        options.domain = "isp.test"
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let alice = try registeredPhone("alice", at: isp, sipTrace: true)
        defer { alice.stop() }
        let bob = try registeredPhone("bob", at: isp, sipTrace: true)
        defer { bob.stop() }
        #expect(isp.waitForRegistration(of: "bob", timeout: 5) != nil)

        let started = monotonicNow()
        let dial = try alice.dial("sip:bob@isp.test")
        #expect(dial.ok, "dial: \(dial.data)")
        let incoming = bob.waitForEvent("CALL_INCOMING", timeout: 10)
        try #require(incoming != nil, "bob never rang: \(bob.historySummary)\nalice: \(alice.historySummary)\n\(isp.output.suffix(3000))")
        #expect(alice.waitForEvent("CALL_RINGING", timeout: 10) != nil, "alice: \(alice.historySummary)")
        try bob.accept()
        #expect(bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "bob: \(bob.historySummary)")
        #expect(alice.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "alice: \(alice.historySummary)")
        print("ISP call set up in \(Int((monotonicNow() - started) * 1000)) ms")
        try alice.hangup()
        #expect(bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "bob: \(bob.historySummary)")
        #expect(alice.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "alice: \(alice.historySummary)")

        let aliceTrace = alice.process.output
        #expect(aliceTrace.contains("SIP/2.0 407 Proxy Authentication Required"), "no 407 to alice: \(aliceTrace.suffix(4000))")
        #expect(aliceTrace.contains("Proxy-Authorization: Digest"), "alice never sent credentials")
        let bobTrace = bob.process.output
        #expect(bobTrace.contains("Record-Route: <sip:127.0.0.1:\(isp.port);"), "no Record-Route at bob: \(bobTrace.suffix(4000))")
        // The INVITE reaches bob without alice's credentials (consume_credentials); her in-dialog ACK
        // and BYE do carry them (baresip repeats them and the script, like Kamailio's default one,
        // relays in-dialog requests untouched).
        let traceLines = bobTrace.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let start = traceLines.firstIndex { $0.hasPrefix("INVITE sip:") } ?? traceLines.endIndex
        let invite = traceLines[start...].prefix { !$0.isEmpty }.joined(separator: "\n")
        #expect(invite.contains("Record-Route:"), "no INVITE in bob's trace: \(bobTrace.suffix(4000))")
        #expect(!invite.contains("Proxy-Authorization"), "credentials were forwarded to bob: \(invite)")
        #expect(!isp.process.hasExited, "\(isp.output)")
    }

    /// A call to a user who is not registered gets 404 from the ISP (baresip closes the call).
    @Test func callToAnUnregisteredUserGets404() throws {
        try requirePeers()
        let isp = try KamailioISP(KamailioISP.Options(subscribers: Self.users))
        defer { isp.stop() }
        let alice = try registeredPhone("alice", at: isp)
        defer { alice.stop() }
        try alice.dial("sip:carol@127.0.0.1")
        let closed = alice.waitForEvent("CALL_CLOSED", timeout: 10)
        #expect(closed?.param?.contains("404") == true, "alice: \(alice.historySummary)")
    }

    // MARK: restart

    /// `restart()` keeps the port; usrloc is empty afterwards (db_mode 0), and baresip registers
    /// again by itself when its short registration interval comes round (REGISTER_OK again, the
    /// contact back in usrloc). `stop()` then `restart()` brings it back on the same port too.
    @Test func restartForgetsRegistrationsAndThePhoneRegistersAgain() throws {
        try requirePeers()
        var options = KamailioISP.Options(subscribers: Self.users)
        options.minExpires = 1
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let port = isp.port
        let firstPID = isp.process.pid
        let alice = try registeredPhone("alice", at: isp, registrationInterval: 4)
        defer { alice.stop() }
        #expect(isp.waitForRegistration(of: "alice", timeout: 5) != nil)

        try isp.restart()
        #expect(isp.port == port)
        #expect(isp.process.pid != firstPID)
        #expect(isp.answersOptions())
        #expect(try isp.registrations().isEmpty, "usrloc survived a restart")
        let started = monotonicNow()
        let again = alice.waitForEvent("REGISTER_OK", timeout: 15)
        #expect(again != nil, "alice did not register again: \(alice.historySummary)\n\(isp.output.suffix(3000))")
        let back = isp.waitForRegistration(of: "alice", timeout: 5) { $0.contact.contains(alice.contactHostPort) }
        #expect(back != nil, "usrloc: \((try? isp.registrations()) ?? [])")
        print("re-registered \(Int((monotonicNow() - started) * 1000)) ms after the restart")

        // stop() then restart(): down in between, back on the same port, empty again.
        isp.stop()
        #expect(!isp.isRunning)
        #expect(!isp.answersOptions(timeout: 0.5), "a stopped Kamailio answered")
        try isp.restart()
        #expect(isp.isRunning)
        #expect(isp.port == port)
        #expect(isp.answersOptions())
        #expect(try isp.registrations().isEmpty)
    }

    // MARK: registrar limits and algorithms, by hand

    /// Raw REGISTERs with hand-computed digests: an Expires below min_expires gets 423 with
    /// Min-Expires; one above max_expires is cut down to it; an in-range one is kept.
    @Test func minAndMaxExpires() throws {
        try requireKamailio()
        var options = KamailioISP.Options(subscribers: Self.users)
        options.minExpires = 60
        options.maxExpires = 300
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let client = try HandClient(isp: isp)

        let brief = client.register(user: "alice", password: "secret", expires: 30)
        #expect(brief.challenge?.status == 401, "\(brief.challenge?.text ?? "no challenge")")
        #expect(brief.final?.status == 423, "\(brief.final?.text ?? "no answer")")
        #expect(brief.final?.value("min-expires") == "60", "\(brief.final?.text ?? "")")

        let long = client.register(user: "alice", password: "secret", expires: 7200)
        #expect(long.final?.status == 200, "\(long.final?.text ?? "no answer")")
        #expect(long.final?.value("contact")?.contains("expires=300") == true, "\(long.final?.text ?? "")")
        let kept = client.register(user: "alice", password: "secret", expires: 120)
        #expect(kept.final?.value("contact")?.contains("expires=120") == true, "\(kept.final?.text ?? "")")
        let binding = try isp.contacts(of: "alice").first
        #expect(binding?.contact == "sip:alice@\(client.via):\(client.probe.port)", "\(String(describing: binding))")
    }

    /// algorithm SHA-256: the challenge names it (algorithm=SHA-256, qop="auth") and a SHA-256
    /// response over the SHA-256 HA1 of the table is accepted; an MD5 response is not (challenged
    /// again: Kamailio takes credentials of another algorithm for none). (baresip 1.0.0
    /// cannot answer SHA-256 challenges: see Baresip.swift.)
    @Test func sha256Challenge() throws {
        try requireKamailio()
        var options = KamailioISP.Options(subscribers: Self.users)
        options.algorithm = .sha256
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let client = try HandClient(isp: isp)
        let good = client.register(user: "bob", password: "secret", expires: 600, algorithm: .sha256)
        let challenge = good.challenge?.value("www-authenticate") ?? ""
        #expect(challenge.contains("algorithm=SHA-256"), "\(challenge)")
        #expect(challenge.contains("qop=\"auth\""), "\(challenge)")
        #expect(good.final?.status == 200, "\(good.final?.text ?? "no answer")\n\(isp.output.suffix(2000))")
        let md5 = client.register(user: "bob", password: "secret", expires: 600, algorithm: .md5)
        #expect(md5.final?.status == 401, "\(md5.final?.text ?? "no answer")")
    }

    /// The default challenge names no algorithm and carries qop="auth"; `qop = false` drops qop.
    @Test func defaultChallengeIsPlainMD5() throws {
        try requireKamailio()
        var options = KamailioISP.Options(subscribers: Self.users)
        options.qop = false
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let client = try HandClient(isp: isp)
        let result = client.register(user: "alice", password: "secret", expires: 600, qop: nil)
        let challenge = result.challenge?.value("www-authenticate") ?? ""
        #expect(challenge.hasPrefix("Digest realm=\"127.0.0.1\""), "\(challenge)")
        #expect(!challenge.contains("algorithm"), "\(challenge)")
        #expect(!challenge.contains("qop"), "\(challenge)")
        #expect(result.final?.status == 200, "\(result.final?.text ?? "no answer")")
    }

    // MARK: redirect server

    /// isp-redirect.cfg: bob registered from two phones; an INVITE for bob gets 302 whose Contact
    /// header lists both phones; "redirect-me" is sent to bob at the same server, "loop-a" to
    /// "loop-b" and back; an unregistered user gets 404.
    @Test func redirectServerAnswers302() throws {
        try requirePeers()
        let isp = try KamailioISP(KamailioISP.Options(role: .redirect, subscribers: Self.users))
        defer { isp.stop() }
        let desk = try registeredPhone("bob", at: isp)
        defer { desk.stop() }
        let mobile = try registeredPhone("bob", at: isp)
        defer { mobile.stop() }
        #expect(isp.waitForRegistration(of: "bob", timeout: 5) { $0.contact.contains(mobile.contactHostPort) } != nil)
        let client = try HandClient(isp: isp)

        let toBob = client.invite(user: "bob")
        #expect(toBob?.status == 302, "\(toBob?.text ?? "no answer")")
        let contacts = toBob?.values("contact").joined(separator: ",") ?? ""
        // baresip's contacts are <sip:bob-<instance>@127.0.0.1:<port>>.
        #expect(contacts.contains("@\(desk.contactHostPort)>"), "\(contacts)")
        #expect(contacts.contains("@\(mobile.contactHostPort)>"), "\(contacts)")
        #expect(contacts.split(separator: "<sip:bob-", omittingEmptySubsequences: false).count == 3, "\(contacts)")

        let fixed = client.invite(user: "redirect-me")
        #expect(fixed?.status == 302)
        #expect(fixed?.value("contact") == "<sip:bob@127.0.0.1:\(isp.port)>", "\(fixed?.text ?? "no answer")")
        let loopA = client.invite(user: "loop-a")
        #expect(loopA?.value("contact") == "<sip:loop-b@127.0.0.1:\(isp.port)>", "\(loopA?.text ?? "no answer")")
        let loopB = client.invite(user: "loop-b")
        #expect(loopB?.value("contact") == "<sip:loop-a@127.0.0.1:\(isp.port)>", "\(loopB?.text ?? "no answer")")
        let nobody = client.invite(user: "carol")
        #expect(nobody?.status == 404, "\(nobody?.text ?? "no answer")")
    }

    // MARK: network namespace

    /// A namespace with a veth: Kamailio runs inside it on 0.0.0.0 and the host reaches it at the
    /// namespace's address (OPTIONS → 200); after `changeAddress` the old address no longer answers and
    /// the new one does; from inside, the host side's address is reachable (sipsak to a Kamailio on the
    /// host side, as a user agent in the namespace would reach the ISP); `delete()` leaves no
    /// namespace and no veth behind.
    @Test func namespaceWithVethAndAddressChange() throws {
        try requireKamailio()
        try #require(geteuid() == 0, "network namespaces need root")
        try #require(NetworkNamespace.ipExecutable != nil, "ip (iproute2) is not installed")
        let namespace = try NetworkNamespace()
        defer { namespace.delete() }
        let name = namespace.name
        let hostInterface = namespace.hostInterface
        #expect(NetworkNamespace.existingNames().contains(name))
        #expect(NetworkNamespace.interfaceExists(hostInterface))
        #expect(name.hasPrefix("dt-\(getpid())-"))
        #expect(namespace.address.hasPrefix("192.0.2."))
        #expect(namespace.hostAddress.hasPrefix("192.0.2."))
        let inside = try namespace.run(["ip", "-4", "-o", "addr", "show"])
        #expect(inside.stdoutText.contains("inet \(namespace.address)/29"), "\(inside.stdoutText)")
        #expect(inside.stdoutText.contains("lo    inet 127.0.0.1/8") || inside.stdoutText.contains("inet 127.0.0.1/8"))
        let routes = try namespace.run(["ip", "-4", "route", "show"])
        #expect(routes.stdoutText.contains("default via \(namespace.hostAddress) dev \(namespace.interface)"), "\(routes.stdoutText)")

        let forwarding = readFile("/proc/sys/net/ipv4/conf/\(hostInterface)/forwarding").map { String(decoding: $0, as: UTF8.self) }
        #expect(forwarding == "0\n", "the host would forward what the namespace sends: \(forwarding ?? "unreadable")")

        var options = KamailioISP.Options(subscribers: Self.users)
        options.namespace = namespace
        #expect(throws: SubprocessError.self) { _ = try KamailioISP(options) }  // 127.0.0.1 inside a namespace
        options.listenAddress = "0.0.0.0"
        let isp = try KamailioISP(options)
        defer { isp.stop() }
        let first = namespace.address
        #expect(AddressedUDPProbe.answersOptions(host: first, port: isp.port), "\(isp.output.suffix(2000))")
        // Not on the host's loopback: it really is in the namespace.
        #expect(!AddressedUDPProbe.answersOptions(host: "127.0.0.1", port: isp.port, timeout: 0.5))

        let second = try #require(namespace.spareAddresses.first)
        try namespace.changeAddress(to: second)
        #expect(namespace.address == second)
        #expect(!AddressedUDPProbe.answersOptions(host: first, port: isp.port, timeout: 1), "the old address still answers")
        #expect(AddressedUDPProbe.answersOptions(host: second, port: isp.port, timeout: 2), "the new address does not answer")
        let after = try namespace.run(["ip", "-4", "route", "show"])
        #expect(after.stdoutText.contains("default via \(namespace.hostAddress)"), "\(after.stdoutText)")
        #expect(throws: SubprocessError.self) { try namespace.changeAddress(to: namespace.hostAddress) }
        #expect(throws: SubprocessError.self) { try namespace.changeAddress(to: "198.51.100.7") }
        isp.stop()

        // A Kamailio on the host side of the veth (where the ISP sits for a user agent in the
        // namespace), reached from inside with sipsak.
        var hostSide = KamailioISP.Options(subscribers: Self.users)
        hostSide.listenAddress = namespace.hostAddress
        let hostISP = try KamailioISP(hostSide)
        defer { hostISP.stop() }
        if let sipsak = findSipsak() {
            let ping = try namespace.run([sipsak, "-s", "sip:\(namespace.hostAddress):\(hostISP.port)"], timeout: 15)
            #expect(ping.exitStatus == 0, "sipsak from the namespace: \(ping.stdoutText) \(ping.stderrText)")
        } else {
            Issue.record("sipsak is not installed (Debian sipsak)")
        }
        hostISP.stop()

        namespace.delete()
        #expect(!NetworkNamespace.existingNames().contains(name), "namespace left behind")
        #expect(!NetworkNamespace.interfaceExists(hostInterface), "veth left behind")
        let list = try runProcess(try #require(NetworkNamespace.ipExecutable), ["netns", "list"], timeout: 10)
        #expect(!list.stdoutText.contains(name))
    }

    /// Two namespaces at once get different /29s, neither overlapping an address of the host.
    @Test func twoNamespacesGetSeparateSubnets() throws {
        try #require(geteuid() == 0, "network namespaces need root")
        let one = try NetworkNamespace()
        defer { one.delete() }
        let two = try NetworkNamespace()
        defer { two.delete() }
        #expect(one.name != two.name)
        #expect(one.network != two.network)
        #expect(one.hostInterface != two.hostInterface)
        #expect(AddressedUDPProbe.sourceAddress(toward: one.address) == one.hostAddress)
        #expect(AddressedUDPProbe.sourceAddress(toward: two.address) == two.hostAddress)
    }

    // MARK: DNS

    /// dnsmasq serves `_sip._udp.isp.test` SRV records for two Kamailio instances (priorities 10 and
    /// 20) and A records for their names; a hand-built DNS query over UDP gets exactly those, an
    /// unknown name gets NXDOMAIN, and each Kamailio answers OPTIONS where the records point.
    @Test func dnsmasqServesSRVForTwoISPServers() throws {
        try requireKamailio()
        try #require(access(Dnsmasq.executable, X_OK) == 0, "dnsmasq is not installed (Debian dnsmasq)")
        let primary = try KamailioISP(KamailioISP.Options(subscribers: Self.users))
        defer { primary.stop() }
        let secondary = try KamailioISP(KamailioISP.Options(subscribers: Self.users))
        defer { secondary.stop() }
        let dns = try Dnsmasq(sipDomain: "isp.test", servers: [
            Dnsmasq.SIPServer(hostName: "sip1.isp.test", address: "127.0.0.1", port: primary.port, priority: 10),
            Dnsmasq.SIPServer(hostName: "sip2.isp.test", address: "127.0.0.1", port: secondary.port, priority: 20)
        ])
        defer { dns.stop() }

        let srv = try #require(DNSQuery.ask("_sip._udp.isp.test", type: 33, port: dns.port))
        #expect(srv.rcode == 0)
        let records = srv.srv.sorted { $0.priority < $1.priority }
        #expect(records.count == 2, "\(records)")
        #expect(records.first?.priority == 10, "\(records)")
        #expect(records.first?.port == primary.port, "\(records)")
        #expect(records.first?.target == "sip1.isp.test", "\(records)")
        #expect(records.last?.priority == 20, "\(records)")
        #expect(records.last?.port == secondary.port, "\(records)")
        #expect(records.last?.target == "sip2.isp.test", "\(records)")
        for name in ["sip1.isp.test", "sip2.isp.test"] {
            let a = try #require(DNSQuery.ask(name, type: 1, port: dns.port))
            #expect(a.addresses == ["127.0.0.1"], "\(name): \(a.addresses)")
        }
        let missing = try #require(DNSQuery.ask("_sip._tcp.isp.test", type: 33, port: dns.port))
        #expect(missing.srv.isEmpty)
        let unknown = try #require(DNSQuery.ask("nothing.isp.test", type: 1, port: dns.port))
        #expect(unknown.rcode == 3, "rcode \(unknown.rcode)")
        for record in records {
            #expect(AddressedUDPProbe.answersOptions(host: "127.0.0.1", port: record.port), "\(record)")
        }
        #expect(dns.queryCount(for: "_sip._udp.isp.test") >= 1)
    }

    // MARK: helpers

    func requireKamailio() throws {
        try #require(KamailioISP.executable != nil, "kamailio is not installed (Debian kamailio; make deps)")
        try #require(KamailioISP.kamcmdExecutable != nil, "kamcmd is not installed (Debian kamailio)")
    }

    func requirePeers() throws {
        try requireKamailio()
        try #require(Baresip.executable != nil, "baresip is not installed (Debian baresip-core; make deps)")
    }

    func findSipsak() -> String? {
        ["/usr/bin/sipsak", "/usr/local/bin/sipsak"].first { access($0, X_OK) == 0 }
    }

    /// A baresip account for `user`@the ISP's domain, registering through the ISP as outbound proxy.
    func account(_ user: String, password: String, at isp: KamailioISP, registrationInterval: Int = 600) -> Baresip.Account {
        Baresip.Account(aor: "sip:\(user)@\(isp.domain)", password: password, outbound: isp.uri,
                        answerMode: .manual, registrationInterval: registrationInterval)
    }

    /// A baresip phone registered as `user` (REGISTER_OK required).
    func registeredPhone(_ user: String, at isp: KamailioISP, registrationInterval: Int = 600, sipTrace: Bool = false) throws -> Baresip {
        let phone = try Baresip(accounts: [account(user, password: "secret", at: isp, registrationInterval: registrationInterval)],
                                sipTrace: sipTrace)
        let event = phone.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
        if event?.type != "REGISTER_OK" { phone.stop() }
        try #require(event?.type == "REGISTER_OK", "\(user): \(phone.historySummary)\n\(isp.output.suffix(3000))")
        return phone
    }
}

private func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A parsed SIP response: status, text, header values by lower-cased full name.
private struct Reply {
    let status: Int
    let text: String
    let headers: [(name: String, value: String)]

    init?(_ bytes: [UInt8]) {
        text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("SIP/2.0 "), first.count >= 11,
              let code = Int(first.dropFirst(8).prefix(3)) else { return nil }
        status = code
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            var name = line[..<colon].lowercased()
            while name.last == " " { name.removeLast() }
            if name == "m" { name = "contact" }
            var value = String(line[line.index(after: colon)...])
            while value.first == " " { value.removeFirst() }
            headers.append((name: name, value: value))
        }
        self.headers = headers
    }

    func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
    func value(_ name: String) -> String? { values(name).first }
}

/// Raw REGISTER (with a hand-computed digest) and INVITE transactions over UDP to a KamailioISP.
private final class HandClient {
    let probe: AddressedUDPProbe
    let host: String
    let port: UInt16
    let domain: String
    let via: String
    private var sequence = 0

    init(isp: KamailioISP) throws {
        probe = try AddressedUDPProbe()
        host = isp.listenAddress
        port = isp.port
        domain = isp.domain
        via = AddressedUDPProbe.sourceAddress(toward: isp.listenAddress) ?? "127.0.0.1"
    }

    /// Sends `request` (retransmitted every 500 ms, at most 6 times) and returns its final response
    /// (matched by Call-ID and CSeq; strays from earlier transactions are skipped).
    func transact(_ request: String) -> Reply? {
        let lines = request.split(separator: "\r\n")
        let callID = lines.first { $0.hasPrefix("Call-ID: ") }.map { String($0.dropFirst(9)) }
        let cseq = lines.first { $0.hasPrefix("CSeq: ") }.map { String($0.dropFirst(6)) }
        let bytes = Array(request.utf8)
        let deadline = monotonicNow() + 5
        var sends = 0
        var nextSend = 0.0
        while monotonicNow() < deadline {
            if monotonicNow() >= nextSend && sends < 6 {
                probe.send(bytes, to: host, port: port)
                sends += 1
                nextSend = monotonicNow() + 0.5
            }
            guard let answer = probe.receive(timeout: 0.1), let reply = Reply(answer.bytes),
                  reply.value("call-id") == callID, reply.value("cseq") == cseq else { continue }
            if reply.status >= 200 { return reply }
            sends = 6
        }
        return nil
    }

    /// REGISTER alice's contact (this socket) for `expires`; the 401's challenge is answered with
    /// `algorithm` (named in the credentials unless it is unnamed MD5) and `qop`.
    func register(user: String, password: String, expires: Int,
                  algorithm: KamailioISP.ChallengeAlgorithm = .unnamedMD5, qop: String? = "auth") -> (challenge: Reply?, final: Reply?) {
        sequence += 1
        let callID = "hand-\(getpid())-\(sequence)@\(via)"
        let uri = "sip:\(domain)"
        func request(_ cseq: Int, _ authorization: String) -> String {
            let lines = [
                "REGISTER \(uri) SIP/2.0",
                "Via: SIP/2.0/UDP \(via):\(probe.port);branch=z9hG4bK-hand-\(sequence)-\(cseq);rport",
                "Max-Forwards: 70",
                "From: <sip:\(user)@\(domain)>;tag=hand\(sequence)",
                "To: <sip:\(user)@\(domain)>",
                "Call-ID: \(callID)",
                "CSeq: \(cseq) REGISTER",
                "Contact: <sip:\(user)@\(via):\(probe.port)>",
                "Expires: \(expires)"
            ]
            return lines.joined(separator: "\r\n") + "\r\n" + authorization + "Content-Length: 0\r\n\r\n"
        }
        guard let challenge = transact(request(1, "")) else { return (nil, nil) }
        guard challenge.status == 401, let header = challenge.value("www-authenticate") else { return (challenge, nil) }
        let parameters = Self.parameters(header)
        let realm = parameters["realm"] ?? ""
        let nonce = parameters["nonce"] ?? ""
        let useQop = parameters["qop"] == nil ? nil : qop
        let response = KamailioISP.digestResponse(algorithm: algorithm, user: user, realm: realm, password: password,
                                                  method: "REGISTER", uri: uri, nonce: nonce, qop: useQop)
        var credentials = "Digest username=\"\(user)\", realm=\"\(realm)\", nonce=\"\(nonce)\", uri=\"\(uri)\", response=\"\(response)\""
        if algorithm != .unnamedMD5 { credentials += ", algorithm=\(algorithm.rawValue)" }
        if let useQop { credentials += ", qop=\(useQop), nc=00000001, cnonce=\"0a4f113b\"" }
        return (challenge, transact(request(2, "Authorization: \(credentials)\r\n")))
    }

    /// An INVITE for `user`@domain without a body; the final response is ACKed when it is not 2xx.
    func invite(user: String) -> Reply? {
        sequence += 1
        let callID = "hand-invite-\(getpid())-\(sequence)@\(via)"
        let branch = "z9hG4bK-hand-inv-\(sequence)"
        let common = [
            "Via: SIP/2.0/UDP \(via):\(probe.port);branch=\(branch);rport",
            "Max-Forwards: 70",
            "From: <sip:caller@example.test>;tag=inv\(sequence)"
        ]
        let invite = (["INVITE sip:\(user)@\(domain) SIP/2.0"] + common + [
            "To: <sip:\(user)@\(domain)>",
            "Call-ID: \(callID)",
            "CSeq: 1 INVITE",
            "Contact: <sip:caller@\(via):\(probe.port)>"
        ]).joined(separator: "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
        let final = transact(invite)
        if let final, final.status >= 300 {
            let ack = (["ACK sip:\(user)@\(domain) SIP/2.0"] + common + [
                "To: \(final.value("to") ?? "<sip:\(user)@\(domain)>")",
                "Call-ID: \(callID)",
                "CSeq: 1 ACK"
            ]).joined(separator: "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
            probe.send(Array(ack.utf8), to: host, port: port)
        }
        return final
    }

    /// `name=value` / `name="value"` pairs of a Digest challenge.
    static func parameters(_ header: String) -> [String: String] {
        var text = Substring(header)
        if text.hasPrefix("Digest ") { text = text.dropFirst(7) }
        var result: [String: String] = [:]
        var rounds = 0
        while !text.isEmpty && rounds < 64 {
            rounds += 1
            while text.first == " " || text.first == "," { text.removeFirst() }
            guard let equals = text.firstIndex(of: "=") else { break }
            let name = text[..<equals].lowercased()
            text = text[text.index(after: equals)...]
            var value = ""
            if text.first == "\"" {
                text.removeFirst()
                value = String(text.prefix { $0 != "\"" })
                text = text.dropFirst(value.count + 1)
            } else {
                value = String(text.prefix { $0 != "," })
                text = text.dropFirst(value.count)
            }
            result[name] = value
        }
        return result
    }
}

/// A hand-built DNS query over UDP (RFC 1035 §4), for checking dnsmasq without dig.
private enum DNSQuery {
    struct SRV: CustomStringConvertible {
        var priority: UInt16
        var weight: UInt16
        var port: UInt16
        var target: String
        var description: String { "\(priority) \(weight) \(port) \(target)" }
    }

    struct Answer {
        var rcode: Int
        var srv: [SRV] = []
        var addresses: [String] = []
    }

    /// Asks 127.0.0.1:`port` for `name`/`type` (1 A, 33 SRV); nil without an answer in 2 s (three tries).
    static func ask(_ name: String, type: UInt16, port: UInt16) -> Answer? {
        guard let probe = try? AddressedUDPProbe(bindAddress: "127.0.0.1") else { return nil }
        let id = UInt16(truncatingIfNeeded: getpid() &* 31 &+ Int32(type))
        var query: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            query.append(UInt8(label.utf8.count))
            query += Array(label.utf8)
        }
        query += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        for _ in 0..<3 {
            probe.send(query, to: "127.0.0.1", port: port)
            guard let reply = probe.receive(timeout: 0.7) else { continue }
            let bytes = reply.bytes
            guard bytes.count >= 12, bytes[0] == UInt8(id >> 8), bytes[1] == UInt8(id & 0xFF) else { continue }
            return parse(bytes)
        }
        return nil
    }

    static func parse(_ bytes: [UInt8]) -> Answer? {
        func u16(_ at: Int) -> UInt16? { at + 1 < bytes.count ? UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) : nil }
        /// The name at `start` (following compression pointers, at most 32) and the offset after it.
        func name(_ start: Int) -> (String, Int)? {
            var labels: [String] = []
            var at = start
            var end: Int? = nil
            var jumps = 0
            while at < bytes.count {
                let length = Int(bytes[at])
                if length == 0 { return (labels.joined(separator: "."), end ?? at + 1) }
                if length & 0xC0 == 0xC0 {
                    guard at + 1 < bytes.count, jumps < 32 else { return nil }
                    jumps += 1
                    if end == nil { end = at + 2 }
                    at = (length & 0x3F) << 8 | Int(bytes[at + 1])
                    continue
                }
                guard at + 1 + length <= bytes.count else { return nil }
                labels.append(String(decoding: bytes[(at + 1)..<(at + 1 + length)], as: UTF8.self))
                at += 1 + length
            }
            return nil
        }
        guard let flags = u16(2), let questions = u16(4), let answers = u16(6) else { return nil }
        var result = Answer(rcode: Int(flags & 0x0F))
        var at = 12
        for _ in 0..<questions {
            guard let (_, next) = name(at) else { return nil }
            at = next + 4
        }
        for _ in 0..<answers {
            guard let (_, next) = name(at), let type = u16(next), let length = u16(next + 8) else { return nil }
            let data = next + 10
            guard data + Int(length) <= bytes.count else { return nil }
            if type == 33, let priority = u16(data), let weight = u16(data + 2), let port = u16(data + 4), let (target, _) = name(data + 6) {
                result.srv.append(SRV(priority: priority, weight: weight, port: port, target: target))
            } else if type == 1, length == 4 {
                result.addresses.append(bytes[data..<(data + 4)].map(String.init).joined(separator: "."))
            }
            at = data + Int(length)
        }
        return result
    }
}
