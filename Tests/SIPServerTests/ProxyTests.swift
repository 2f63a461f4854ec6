#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import SIPCore
@testable import SIPEndpoint
import SIPServer
import SIPTransaction
import SIPTransport
import DialtoneTestKit

/// The stateful and stateless proxy (RFC 3261 §16) run for real: a SIPServerHost on a SIPEndpoint
/// bound to udp:127.0.0.1, raw UDP peers as phones that REGISTER and answer, and as callers.
@Suite("Proxy over loopback UDP", .serialized)
struct ProxyTests {
    /// Steps the lab for `seconds`, then whether `peer` got nothing that matches.
    func silent(_ peer: Peer, _ lab: ProxyLab, seconds: Double, _ match: (SIPMessage) -> Bool) -> Bool {
        lab.run(seconds: seconds)
        return peer.take(where: match) == nil
    }

    // MARK: Forwarding

    /// §16.6: the copy for the contact (Request-URI, Max-Forwards, Record-Route, our Via with the
    /// loop-detection branch), 100 Trying upstream, 180/200 relayed with our Via removed, and the ACK
    /// for the 2xx sent through the Record-Route arriving without our Route.
    @Test func inviteReachesTheRegisteredContactAndItsResponsesComeBack() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "fwd-1")
        invite.send(to: lab.port)

        let trying = try #require(lab.wait(caller, for: Is.status(100)), "no 100 Trying upstream")
        #expect(vias(trying).count == 1)
        #expect(vias(trying).first?.branch == invite.branch)

        let forwarded = try #require(lab.wait(bob, for: Is.request(.invite)), "INVITE not forwarded to the contact")
        #expect(requestURI(forwarded) == bob.contact("bob"))
        let mf = try forwarded.maxForwards()
        #expect(mf == 69)
        #expect(forwarded.headers.values(.recordRoute) == [lab.recordRoute])
        #expect(!forwarded.headers.contains(.route))
        let v = vias(forwarded)
        #expect(v.count == 2)
        let top = try #require(v.first)
        #expect(top.host.description == "127.0.0.1")
        #expect(top.port == lab.port)
        #expect(top.transport == "UDP")
        let original = try #require(invite.parsed)
        let hash = ProxyRouting.loopHash(original)
        #expect(top.branch?.hasPrefix("z9hG4bK-" + hash + ".") == true, "branch \(top.branch ?? "-") lacks the loop hash \(hash)")
        #expect(v.last?.branch == invite.branch)
        // §18.2.1 / RFC 3581: the caller's Via as stamped on arrival.
        #expect(v.last?.rport == .some(.some(caller.port)))
        // The rest of the request is untouched.
        let callID = try forwarded.callID()
        #expect(callID == "fwd-1")
        let from = try forwarded.from()
        #expect(from.tag == "caller-tag")

        bob.send(reply(forwarded, 180, contact: bob.contact("bob")), to: lab.port)
        let ringing = try #require(lab.wait(caller, for: Is.status(180)), "180 not relayed")
        #expect(vias(ringing).count == 1)
        #expect(vias(ringing).first?.branch == invite.branch)
        #expect(ringing.headers.values(.recordRoute) == [lab.recordRoute])

        bob.send(reply(forwarded, 200, contact: bob.contact("bob")), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.response(200, to: .invite)), "200 not relayed")
        #expect(vias(ok).count == 1)
        #expect(vias(ok).first?.branch == invite.branch)
        let okTo = try ok.to()
        #expect(okTo.tag == "callee")
        #expect(ok.headers.values(.recordRoute) == [lab.recordRoute])
        #expect(lab.host.statefulProxy?.contextCount == 0)

        // The ACK for the 2xx (§13.2.2.4) follows the route set: to the proxy, then the contact.
        var ack = OutgoingRequest("ACK", bob.contact("bob"), from: caller, callID: "fwd-1", branch: "z9hG4bK-fwd-1-ack")
        ack.to = "sip:bob@127.0.0.1"
        ack.toTag = "callee"
        ack.extra = ["Route: " + lab.recordRoute]
        ack.send(to: lab.port)
        let forwardedACK = try #require(lab.wait(bob, for: Is.request(.ack)), "ACK for 2xx not forwarded")
        #expect(requestURI(forwardedACK) == bob.contact("bob"))
        #expect(!forwardedACK.headers.contains(.route), "our Route must come off: \(forwardedACK.headers.values(.route))")
        #expect(vias(forwardedACK).count == 2)
        #expect(vias(forwardedACK).first?.port == lab.port)
        #expect(vias(forwardedACK).last?.branch == "z9hG4bK-fwd-1-ack")
        let ackMF = try forwardedACK.maxForwards()
        #expect(ackMF == 69)
        #expect(lab.host.statefulProxy?.statistics.acksForwarded == 1)
        // The INVITE is not retransmitted to bob once he answered, nor forwarded twice.
        lab.run(seconds: 0.1)
        #expect(bob.received(where: Is.request(.invite)).count == 1)
        #expect(caller.received(where: Is.final()).count == 1)
    }

    /// A request that cannot start a dialog (MESSAGE) gets no Record-Route and no 100 Trying; the
    /// 200 comes back.
    @Test func messageIsForwardedWithoutRecordRoute() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        let message = OutgoingRequest("MESSAGE", "sip:bob@127.0.0.1", from: caller, callID: "msg-1")
        message.send(to: lab.port)
        let forwarded = try #require(lab.wait(bob, for: Is.request(.message)), "MESSAGE not forwarded")
        #expect(requestURI(forwarded) == bob.contact("bob"))
        #expect(!forwarded.headers.contains(.recordRoute))
        let mf = try forwarded.maxForwards()
        #expect(mf == 69)
        #expect(vias(forwarded).count == 2)
        bob.send(reply(forwarded, 200), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.response(200, to: .message)), "200 to MESSAGE not relayed")
        #expect(vias(ok).count == 1)
        #expect(caller.received(where: Is.status(100)).isEmpty)
    }

    /// A caller that writes the proxy's port into the Request-URI (`sip:bob@DOMAIN:PORT`, as phones
    /// configured with "proxy 192.168.1.1:5060" do) reaches the binding registered for `sip:bob@DOMAIN`.
    @Test func requestURIWithOurPortFindsThePortlessBinding() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        let uri = "sip:bob@127.0.0.1:" + String(lab.port)
        OutgoingRequest("INVITE", uri, from: caller, callID: "port-1").send(to: lab.port)
        let forwarded = try #require(lab.wait(bob, for: Is.request(.invite)), "INVITE to \(uri) not forwarded: \(caller.received(where: Is.final()).map { $0.statusCode ?? 0 })")
        #expect(requestURI(forwarded) == bob.contact("bob"))
        bob.send(reply(forwarded, 486), to: lab.port)
        #expect(lab.wait(caller, for: Is.final())?.statusCode == 486)
    }

    /// A phone behind NAT (its REGISTER's Via names the address it thinks it has, not where the
    /// packet came from): the request goes to the address the REGISTER came from, with the contact as
    /// Request-URI. (Here the "private" address is a closed loopback port.)
    @Test func contactBehindNATIsReachedWhereItRegisteredFrom() throws {
        let lab = try ProxyLab()
        let phone = Peer("phone")
        let caller = Peer("caller")
        let unreachable = UDPProbe.freePort()
        let contact = "sip:bob@127.0.0.1:" + String(unreachable)
        try lab.register(phone, user: "bob", contact: contact, sentBy: "127.0.0.1:" + String(unreachable))
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "nat-1").send(to: lab.port)
        let forwarded = try #require(lab.wait(phone, for: Is.request(.invite)), "INVITE not sent to the registration's source")
        #expect(requestURI(forwarded) == contact)
        phone.send(reply(forwarded, 486), to: lab.port)
        let busy = try #require(lab.wait(caller, for: Is.final()))
        #expect(busy.statusCode == 486)
    }

    /// A REGISTER sent on behalf of another device (§10: third-party registration, Via = the real
    /// source): the contact's own address is used.
    @Test func thirdPartyRegistrationKeepsTheContactsAddress() throws {
        let lab = try ProxyLab()
        let registrar = Peer("admin")
        let phone = Peer("phone")
        let caller = Peer("caller")
        try lab.register(registrar, user: "bob", contact: phone.contact("bob"))
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "3pcc-1").send(to: lab.port)
        let forwarded = try #require(lab.wait(phone, for: Is.request(.invite)), "INVITE not sent to the registered contact")
        #expect(requestURI(forwarded) == phone.contact("bob"))
        #expect(registrar.received(where: Is.request(.invite)).isEmpty)
        phone.send(reply(forwarded, 486), to: lab.port)
        #expect(lab.wait(caller, for: Is.final())?.statusCode == 486)
    }

    // MARK: §16.3 rejections

    @Test func maxForwardsZeroGets483() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        var invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "mf0-1")
        invite.maxForwards = 0
        invite.send(to: lab.port)
        let answer = try #require(lab.wait(caller, for: Is.final()), "no answer to Max-Forwards 0")
        #expect(answer.statusCode == 483)
        #expect(vias(answer).count == 1)
        invite.with(method: "ACK").send(to: lab.port)
        // A MESSAGE with Max-Forwards 0 too (answered statelessly).
        var message = OutgoingRequest("MESSAGE", "sip:bob@127.0.0.1", from: caller, callID: "mf0-2")
        message.maxForwards = 0
        message.send(to: lab.port)
        let answer2 = try #require(lab.wait(caller, for: Is.response(to: .message)))
        #expect(answer2.statusCode == 483)
        #expect(silent(bob, lab, seconds: 0.1) { $0.isRequest })
        #expect(lab.host.statefulProxy?.statistics.requestsForwarded == 0)
    }

    @Test func unknownProxyRequireGets420WithUnsupported() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        var options = OutgoingRequest("OPTIONS", "sip:bob@127.0.0.1", from: caller, callID: "pr-1")
        options.extra = ["Proxy-Require: x-frobnicate, 100rel"]
        options.send(to: lab.port)
        let answer = try #require(lab.wait(caller, for: Is.final()), "no answer to Proxy-Require")
        #expect(answer.statusCode == 420)
        #expect(answer.headers.values(.unsupported) == ["x-frobnicate"])
        // A Proxy-Require the proxy knows is fine: forwarded.
        var known = OutgoingRequest("OPTIONS", "sip:bob@127.0.0.1", from: caller, callID: "pr-2")
        known.extra = ["Proxy-Require: path"]
        known.send(to: lab.port)
        let forwarded = try #require(lab.wait(bob, for: Is.request(.options)), "OPTIONS with a known Proxy-Require not forwarded")
        #expect(forwarded.headers.values(.proxyRequire) == ["path"])
        let callID = try forwarded.callID()
        #expect(callID == "pr-2")
    }

    /// §16.3 step 4: the forwarded request sent back unchanged. The first return has another
    /// Request-URI (the contact) than what the proxy hashed, so it is a spiral and forwarded again;
    /// that copy sent back unchanged is a loop: 482. The 482 then unwinds to the caller.
    @Test func requestComingBackUnchangedIsALoop() throws {
        let lab = try ProxyLab()
        let bob = Peer("bob")
        let caller = Peer("caller")
        try lab.register(bob, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "loop-1").send(to: lab.port)
        let first = try #require(lab.wait(bob, for: Is.request(.invite)), "INVITE not forwarded")
        #expect(vias(first).count == 2)

        // Spiral: it comes back with the Request-URI changed (by us), so it is forwarded again.
        bob.send(first, to: lab.port)
        let second = try #require(lab.wait(bob, for: { $0.method == .invite && vias($0).count == 3 }), "the spiral was not forwarded")
        let mf = try second.maxForwards()
        #expect(mf == 68)
        #expect(requestURI(second) == bob.contact("bob"))
        #expect(bob.received(where: Is.status(482)).isEmpty)

        // Loop: the same request again, unchanged.
        bob.send(second, to: lab.port)
        let loop = try #require(lab.wait(bob, for: Is.final()), "no answer to the looping request")
        #expect(loop.statusCode == 482)
        // The 482 answers the looped copy: its top Via is the one of `second`.
        #expect(vias(loop).first?.branch == vias(second).first?.branch)
        #expect(vias(loop).count == 3)
        #expect(bob.received(where: { $0.method == .invite && vias($0).count == 4 }).isEmpty)

        // Bob "forwards" the 482 back up (as a looping hop would); it unwinds to the caller.
        bob.send(loop, to: lab.port)
        let unwound = try #require(lab.wait(bob, for: { $0.statusCode == 482 && vias($0).count == 2 }), "482 not relayed for the spiral")
        bob.send(unwound, to: lab.port)
        let atCaller = try #require(lab.wait(caller, for: Is.final()), "482 did not reach the caller")
        #expect(atCaller.statusCode == 482)
        #expect(vias(atCaller).count == 1)
    }

    @Test func unknownUserGets404AndKnownUserWithoutBinding480() throws {
        let lab = try ProxyLab()
        let caller = Peer("caller")
        let invite = OutgoingRequest("INVITE", "sip:nobody@127.0.0.1", from: caller, callID: "nf-1")
        invite.send(to: lab.port)
        let notFound = try #require(lab.wait(caller, for: Is.final()), "no answer for an unknown user")
        #expect(notFound.statusCode == 404)
        #expect(caller.received(where: Is.status(100)).isEmpty)
        invite.with(method: "ACK").send(to: lab.port)
        let invite2 = OutgoingRequest("INVITE", "sip:carol@127.0.0.1", from: caller, callID: "nf-2")
        invite2.send(to: lab.port)
        let unavailable = try #require(lab.wait(caller, for: Is.final()), "no answer for a user without binding")
        #expect(unavailable.statusCode == 480)
        invite2.with(method: "ACK").send(to: lab.port)
        OutgoingRequest("MESSAGE", "sip:carol@127.0.0.1", from: caller, callID: "nf-3").send(to: lab.port)
        let unavailable2 = try #require(lab.wait(caller, for: Is.response(to: .message)))
        #expect(unavailable2.statusCode == 480)
        #expect(lab.host.statefulProxy?.statistics.requestsForwarded == 0)
    }

    @Test func nonSIPRequestURIGets416() throws {
        let lab = try ProxyLab()
        let caller = Peer("caller")
        var invite = OutgoingRequest("INVITE", "tel:+15550100", from: caller, callID: "tel-1")
        invite.to = "sip:bob@127.0.0.1"
        invite.send(to: lab.port)
        let answer = try #require(lab.wait(caller, for: Is.final()), "no answer to a tel: Request-URI")
        #expect(answer.statusCode == 416)
        invite.with(method: "ACK").send(to: lab.port)
        // A scheme nobody knows (the validator's 416).
        var message = OutgoingRequest("MESSAGE", "xmpp:bob@127.0.0.1", from: caller, callID: "tel-2")
        message.to = "sip:bob@127.0.0.1"
        message.send(to: lab.port)
        let answer2 = try #require(lab.wait(caller, for: Is.response(to: .message)))
        #expect(answer2.statusCode == 416)
    }

    // MARK: Route (§16.4)

    /// Loose routing: our Route comes off and the request goes to the next one, Request-URI untouched.
    @Test func looseRouteIsFollowedWithOurRouteRemoved() throws {
        let lab = try ProxyLab()
        let hop = Peer("hop")
        let caller = Peer("caller")
        let next = "sip:127.0.0.1:" + String(hop.port) + ";lr"
        var bye = OutgoingRequest("BYE", "sip:dave@192.0.2.7", from: caller, callID: "lr-1")
        bye.toTag = "dave-tag"
        bye.extra = ["Route: " + lab.recordRoute + ", <" + next + ">"]
        bye.send(to: lab.port)
        let forwarded = try #require(lab.wait(hop, for: Is.request(.bye)), "BYE not sent to the next Route")
        #expect(requestURI(forwarded) == "sip:dave@192.0.2.7")
        #expect(routeTexts(forwarded) == [next])
        #expect(!forwarded.headers.contains(.recordRoute))
        let mf = try forwarded.maxForwards()
        #expect(mf == 69)
        #expect(vias(forwarded).first?.port == lab.port)
        hop.send(reply(forwarded, 200, tag: "dave-tag"), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.response(to: .bye)))
        #expect(ok.statusCode == 200)
        #expect(vias(ok).count == 1)
    }

    /// §16.4 strict-router fix: a Request-URI that is our own address was put there by a strict
    /// router; the last Route is the real Request-URI.
    @Test func strictRouterRequestURIIsReplacedByTheLastRoute() throws {
        let lab = try ProxyLab()
        let hop = Peer("hop")
        let caller = Peer("caller")
        let target = "sip:dave@127.0.0.1:" + String(hop.port)
        var bye = OutgoingRequest("BYE", "sip:127.0.0.1:" + String(lab.port) + ";lr", from: caller, callID: "sr-1")
        bye.to = "sip:dave@127.0.0.1"
        bye.toTag = "dave-tag"
        bye.extra = ["Route: <" + target + ">"]
        bye.send(to: lab.port)
        let forwarded = try #require(lab.wait(hop, for: Is.request(.bye)), "BYE not sent to the last Route")
        #expect(requestURI(forwarded) == target)
        #expect(!forwarded.headers.contains(.route))

        // With another loose router after us: Request-URI from the last Route, sent to the next one.
        let next = "sip:127.0.0.1:" + String(hop.port) + ";lr"
        var bye2 = OutgoingRequest("BYE", "sip:127.0.0.1:" + String(lab.port) + ";lr", from: caller, callID: "sr-2")
        bye2.to = "sip:dave@127.0.0.1"
        bye2.toTag = "dave-tag"
        bye2.extra = ["Route: <" + next + ">, <sip:dave@192.0.2.9>"]
        bye2.send(to: lab.port)
        let forwarded2 = try #require(lab.wait(hop, for: Is.request(.bye)), "BYE not sent to the remaining Route")
        #expect(requestURI(forwarded2) == "sip:dave@192.0.2.9")
        #expect(routeTexts(forwarded2) == [next])
    }

    // MARK: Forking (§16.5–§16.7)

    /// Two contacts with the same q: both ring; the 200 of one goes up, the other is cancelled, its
    /// 487 is ACKed by the proxy and never reaches the caller.
    @Test func parallelForkCancelsTheOtherBranchOn200() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "par-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)), "b1 got no INVITE")
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)), "b2 got no INVITE")
        #expect(requestURI(i1) == b1.contact("bob"))
        #expect(requestURI(i2) == b2.contact("bob"))
        let branch1 = try #require(vias(i1).first?.branch)
        let branch2 = try #require(vias(i2).first?.branch)
        #expect(branch1 != branch2)
        // Same response context: same loop-hash part.
        #expect(branch1.prefix(25) == branch2.prefix(25))

        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        b2.send(reply(i2, 180, tag: "b2"), to: lab.port)
        #expect(lab.wait(caller, for: Is.status(180)) != nil)
        #expect(lab.wait(caller, for: Is.status(180)) != nil)

        b1.send(reply(i1, 200, tag: "b1", contact: b1.contact("bob")), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.response(200, to: .invite)), "200 not relayed")
        let okTo = try ok.to()
        #expect(okTo.tag == "b1")
        #expect(vias(ok).count == 1)

        let cancel = try #require(lab.wait(b2, for: Is.request(.cancel)), "the other branch was not cancelled")
        #expect(vias(cancel).first?.branch == branch2)
        #expect(requestURI(cancel) == requestURI(i2))
        let cseq = try cancel.cseq()
        #expect(cseq.method == .cancel)
        #expect(b1.received(where: Is.request(.cancel)).isEmpty)
        b2.send(reply(cancel, 200, tag: "b2"), to: lab.port)
        b2.send(reply(i2, 487, tag: "b2"), to: lab.port)
        // The proxy's client transaction ACKs the 487 (same branch, hop by hop: only our Via).
        let ack = try #require(lab.wait(b2, for: Is.request(.ack)), "487 not ACKed by the proxy")
        #expect(vias(ack).first?.branch == branch2)
        #expect(vias(ack).count == 1)
        #expect(silent(caller, lab, seconds: 0.2) { ($0.statusCode ?? 0) >= 300 }, "the caller must not see the 487")
        #expect(caller.received(where: Is.final()).count == 1)
        #expect(lab.host.statefulProxy?.contextCount == 0)

        // The ACK for the 200 goes to b1 only, our Route removed.
        var ack200 = OutgoingRequest("ACK", b1.contact("bob"), from: caller, callID: "par-1", branch: "z9hG4bK-par-1-ack")
        ack200.to = "sip:bob@127.0.0.1"
        ack200.toTag = "b1"
        ack200.extra = ["Route: " + lab.recordRoute]
        ack200.send(to: lab.port)
        let routed = try #require(lab.wait(b1, for: Is.request(.ack)), "ACK for the 200 not forwarded")
        #expect(routeTexts(routed).isEmpty)
        #expect(vias(routed).count == 2)
        #expect(silent(b2, lab, seconds: 0.05) { $0.method == .ack })
    }

    /// q 1.0 before q 0.5: only the first rings; its 486 starts the second; the caller sees the
    /// second's 200 only.
    @Test func sequentialForkTriesTheLowerQAfterAFailure() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob", q: "1.0")
        try lab.register(b2, user: "bob", q: "0.5")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "seq-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)), "the q=1.0 contact got no INVITE")
        #expect(silent(b2, lab, seconds: 0.25, Is.request(.invite)), "the q=0.5 contact must wait")
        b1.send(reply(i1, 486, tag: "b1"), to: lab.port)
        let ack = try #require(lab.wait(b1, for: Is.request(.ack)), "486 not ACKed")
        #expect(vias(ack).count == 1)
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)), "the q=0.5 contact got no INVITE after the 486")
        #expect(requestURI(i2) == b2.contact("bob"))
        #expect(vias(i2).first?.branch != vias(i1).first?.branch)
        #expect(vias(i2).first?.branch?.prefix(25) == vias(i1).first?.branch?.prefix(25))
        b2.send(reply(i2, 200, tag: "b2"), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.final()), "no final response upstream")
        #expect(ok.statusCode == 200)
        let okTo = try ok.to()
        #expect(okTo.tag == "b2")
        lab.run(seconds: 0.05)
        #expect(caller.received(where: Is.status(486)).isEmpty)
        #expect(lab.host.statefulProxy?.statistics.branchesStarted == 2)
    }

    /// §16.7 step 6: nothing goes up before both branches ended; then one 4xx.
    @Test func twoFailuresGiveOneBestResponse() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "best-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)))
        b1.send(reply(i1, 404, tag: "b1"), to: lab.port)
        #expect(silent(caller, lab, seconds: 0.2, Is.final()), "no final response while a branch is pending")
        b2.send(reply(i2, 486, tag: "b2"), to: lab.port)
        let best = try #require(lab.wait(caller, for: Is.final()), "no best response")
        #expect(best.statusCode == 404 || best.statusCode == 486)
        // Neither is preferred by §16.7; the first one kept is sent.
        #expect(best.statusCode == 404)
        #expect(vias(best).count == 1)
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final()).count == 1)
    }

    /// A 6xx cancels the other branch and is what the caller gets (not the 487).
    @Test func sixHundredCancelsTheOthersAndWins() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "six-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)))
        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        b2.send(reply(i2, 180, tag: "b2"), to: lab.port)
        lab.run(seconds: 0.05)
        b1.send(reply(i1, 603, tag: "b1"), to: lab.port)
        let cancel = try #require(lab.wait(b2, for: Is.request(.cancel)), "6xx did not cancel the other branch")
        #expect(vias(cancel).first?.branch == vias(i2).first?.branch)
        b2.send(reply(cancel, 200, tag: "b2"), to: lab.port)
        b2.send(reply(i2, 487, tag: "b2"), to: lab.port)
        let decline = try #require(lab.wait(caller, for: Is.final()), "no final response upstream")
        #expect(decline.statusCode == 603)
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final()).count == 1)
        #expect(caller.received(where: Is.status(487)).isEmpty)
    }

    /// §16.7 step 7: every branch's challenge in the one 401 sent up.
    @Test func challengesOfEveryBranchAreMerged() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "auth-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)))
        let c1 = "Digest realm=\"one.example\", nonce=\"n1\", algorithm=MD5"
        let c2 = "Digest realm=\"two.example\", nonce=\"n2\", algorithm=SHA-256"
        b1.send(reply(i1, 401, tag: "b1", extra: [HeaderField(name: .wwwAuthenticate, value: c1)]), to: lab.port)
        b2.send(reply(i2, 401, tag: "b2", extra: [HeaderField(name: .wwwAuthenticate, value: c2)]), to: lab.port)
        let challenge = try #require(lab.wait(caller, for: Is.final()), "no 401 upstream")
        #expect(challenge.statusCode == 401)
        #expect(Set(challenge.headers.values(.wwwAuthenticate)) == Set([c1, c2]))
        #expect(challenge.headers.values(.wwwAuthenticate).count == 2)
        #expect(vias(challenge).count == 1)
        lab.run(seconds: 0.05)
        #expect(caller.received(where: Is.final()).count == 1)
    }

    /// §16.7 step 6: a 503 from downstream goes up as 500.
    @Test func serviceUnavailableBecomes500() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "svc-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        b1.send(reply(i1, 503, tag: "b1", extra: [HeaderField(name: .retryAfter, value: "30")]), to: lab.port)
        let answer = try #require(lab.wait(caller, for: Is.final()), "no final response upstream")
        #expect(answer.statusCode == 500)
        #expect(vias(answer).count == 1)
        lab.run(seconds: 0.05)
        #expect(caller.received(where: Is.status(503)).isEmpty)
    }

    /// Nothing comes back from the only branch: 408 after Timer B (short T1 here).
    @Test func silentBranchEndsIn408() throws {
        let lab = try ProxyLab(t1: .milliseconds(10))
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "to-1").send(to: lab.port)
        #expect(lab.wait(b1, for: Is.request(.invite)) != nil)
        let answer = try #require(lab.wait(caller, seconds: 3, for: Is.final()), "no 408 after Timer B")
        #expect(answer.statusCode == 408)
        // Timer A retransmitted the INVITE meanwhile (same branch).
        let copies = b1.received(where: Is.request(.invite))
        #expect(copies.count > 1)
        #expect(Set(copies.compactMap { vias($0).first?.branch }).count == 1)
    }

    /// A contact whose port is closed: the ICMP error ends the branch at once (not after Timer B);
    /// the made-up 503 goes up as 500 (§16.7 step 6). With another contact answering, that one wins.
    @Test func unreachableContactFailsFastAndTheOtherForkStillAnswers() throws {
        let lab = try ProxyLab()
        let caller = Peer("caller")
        do {
            let gone = Peer("gone")
            try lab.register(gone, user: "carol")
        }  // its socket is closed now
        let started = MonotonicClock.milliseconds()
        OutgoingRequest("INVITE", "sip:carol@127.0.0.1", from: caller, callID: "gone-1").send(to: lab.port)
        let failed = try #require(lab.wait(caller, for: Is.final(to: .invite)), "no answer for an unreachable contact")
        #expect(failed.statusCode == 500)
        let elapsed = MonotonicClock.milliseconds() - started
        #expect(elapsed < 1000, "\(elapsed) ms: the ICMP error was not used")

        let b1 = Peer("b1")
        do {
            let gone = Peer("gone2")
            try lab.register(gone, user: "bob")
        }
        try lab.register(b1, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "gone-2").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final(to: .invite)).count == 1, "a final response went up while b1 was pending")
        b1.send(reply(i1, 200, tag: "b1"), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.final(to: .invite)))
        #expect(ok.statusCode == 200)
    }

    // MARK: CANCEL (§16.10) and Timer C (§16.8)

    @Test func upstreamCancelCancelsEveryBranch() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "ccl-1")
        invite.send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)))
        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        b2.send(reply(i2, 180, tag: "b2"), to: lab.port)
        #expect(lab.wait(caller, for: Is.status(180)) != nil)

        invite.with(method: "CANCEL").send(to: lab.port)
        let cancelled = try #require(lab.wait(caller, for: Is.response(to: .cancel)), "no answer to CANCEL")
        #expect(cancelled.statusCode == 200)
        let c1 = try #require(lab.wait(b1, for: Is.request(.cancel)), "b1 not cancelled")
        let c2 = try #require(lab.wait(b2, for: Is.request(.cancel)), "b2 not cancelled")
        #expect(vias(c1).first?.branch == vias(i1).first?.branch)
        #expect(vias(c2).first?.branch == vias(i2).first?.branch)
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final(to: .invite)).isEmpty, "no final response to the INVITE before the branches answered")
        for (peer, c, i, tag) in [(b1, c1, i1, "b1"), (b2, c2, i2, "b2")] {
            peer.send(reply(c, 200, tag: tag), to: lab.port)
            peer.send(reply(i, 487, tag: tag), to: lab.port)
        }
        let terminated = try #require(lab.wait(caller, for: Is.final(to: .invite)), "487 not relayed")
        #expect(terminated.statusCode == 487)
        #expect(vias(terminated).count == 1)
        #expect(vias(terminated).first?.branch == invite.branch)
        // The caller ACKs the 487 hop by hop: the proxy's server transaction absorbs it; each branch
        // gets the proxy's own ACK (one Via), nothing else.
        invite.with(method: "ACK").send(to: lab.port)
        let a1 = try #require(lab.wait(b1, for: Is.request(.ack)))
        let a2 = try #require(lab.wait(b2, for: Is.request(.ack)))
        #expect(vias(a1).count == 1 && vias(a2).count == 1)
        lab.run(seconds: 0.1)
        #expect(b1.received(where: Is.request(.ack)).count == 1)
        #expect(b2.received(where: Is.request(.ack)).count == 1)
        #expect(caller.received(where: Is.final(to: .invite)).count == 1)
        #expect(lab.host.statefulProxy?.contextCount == 0)
    }

    /// Timer C: a branch that rang and then went quiet is cancelled; the caller gets its 487.
    @Test func timerCCancelsABranchThatStopsAnswering() throws {
        let lab = try ProxyLab()
        let proxy = try #require(lab.host.statefulProxy)
        proxy.timerC = .milliseconds(300)
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "tc-1").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        #expect(lab.wait(caller, for: Is.status(180)) != nil)
        let rang = MonotonicClock.milliseconds()
        let cancel = try #require(lab.wait(b1, seconds: 3, for: Is.request(.cancel)), "Timer C did not cancel the branch")
        let after = MonotonicClock.milliseconds() - rang
        #expect(after >= 250, "cancelled \(after) ms after the 180, Timer C is 300 ms")
        #expect(after < 1500, "cancelled \(after) ms after the 180, Timer C is 300 ms")
        #expect(vias(cancel).first?.branch == vias(i1).first?.branch)
        #expect(proxy.statistics.timerCFired == 1)
        b1.send(reply(cancel, 200, tag: "b1"), to: lab.port)
        b1.send(reply(i1, 487, tag: "b1"), to: lab.port)
        let final = try #require(lab.wait(caller, for: Is.final()), "no final response after Timer C")
        #expect(final.statusCode == 487)
    }

    /// Timer C restarts with every provisional (§16.7 step 2): a branch ringing again is left alone.
    @Test func timerCIsRestartedByProvisionals() throws {
        let lab = try ProxyLab()
        let proxy = try #require(lab.host.statefulProxy)
        proxy.timerC = .milliseconds(300)
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "tc-2").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        for _ in 0..<3 {
            b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
            #expect(silent(b1, lab, seconds: 0.2, Is.request(.cancel)))
        }
        #expect(proxy.statistics.timerCFired == 0)
        b1.send(reply(i1, 200, tag: "b1"), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.final()))
        #expect(ok.statusCode == 200)
    }

    /// §9.1 through the proxy: a CANCEL from upstream before the branch sent any provisional waits
    /// for one, then goes.
    @Test func cancelBeforeTheBranchRangWaitsForItsProvisional() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "early-ccl")
        invite.send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        invite.with(method: "CANCEL").send(to: lab.port)
        #expect(lab.wait(caller, for: Is.response(200, to: .cancel)) != nil)
        #expect(silent(b1, lab, seconds: 0.15, Is.request(.cancel)), "CANCEL sent before any provisional (§9.1)")
        b1.send(reply(i1, 100), to: lab.port)
        let cancel = try #require(lab.wait(b1, for: Is.request(.cancel)), "CANCEL not sent once the branch answered 100")
        b1.send(reply(cancel, 200, tag: "b1"), to: lab.port)
        b1.send(reply(i1, 487, tag: "b1"), to: lab.port)
        let final = try #require(lab.wait(caller, for: Is.final(to: .invite)))
        #expect(final.statusCode == 487)
    }

    /// §16.7 step 5: a 2xx is forwarded whatever happened before (here the caller had cancelled).
    @Test func twoHundredAfterCancelStillGoesUp() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "late-200")
        invite.send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        #expect(lab.wait(caller, for: Is.status(180)) != nil)
        invite.with(method: "CANCEL").send(to: lab.port)
        let cancel = try #require(lab.wait(b1, for: Is.request(.cancel)))
        // The callee had already answered: 200 to the INVITE, and the CANCEL is too late.
        b1.send(reply(i1, 200, tag: "b1", contact: b1.contact("bob")), to: lab.port)
        b1.send(reply(cancel, 200, tag: "b1"), to: lab.port)
        let final = try #require(lab.wait(caller, for: Is.final(to: .invite)), "the 2xx did not go up")
        #expect(final.statusCode == 200)
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final(to: .invite)).count == 1)
    }

    /// §16.7 step 5: both forks answering 200 (a race with the CANCEL) both go up; the caller's dialog
    /// layer ACKs each.
    @Test func everyForkedTwoHundredIsRelayed() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "two-200").send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)))
        let i2 = try #require(lab.wait(b2, for: Is.request(.invite)))
        b1.send(reply(i1, 200, tag: "b1"), to: lab.port)
        b2.send(reply(i2, 200, tag: "b2"), to: lab.port)
        let first = try #require(lab.wait(caller, for: Is.response(200, to: .invite)))
        let second = try #require(lab.wait(caller, for: Is.response(200, to: .invite)), "the second fork's 200 was not relayed")
        let tags = Set([try first.to().tag ?? "", try second.to().tag ?? ""])
        #expect(tags == Set(["b1", "b2"]))
    }

    /// The caller's retransmission is absorbed by the server transaction (100 again), not forwarded.
    @Test func retransmittedInviteIsAbsorbed() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "rtx-1")
        invite.send(to: lab.port)
        #expect(lab.wait(b1, for: Is.request(.invite)) != nil)
        #expect(lab.wait(caller, for: Is.status(100)) != nil)
        invite.send(to: lab.port)
        #expect(lab.wait(caller, for: Is.status(100)) != nil, "the retransmission got no 100 again")
        lab.run(seconds: 0.1)
        let copies = b1.received(where: Is.request(.invite))
        #expect(Set(copies.compactMap { vias($0).first?.branch }).count == 1, "the retransmission made another branch")
        #expect(lab.host.statefulProxy?.statistics.requestsForwarded == 1)
    }

    /// A phone with this proxy as outbound proxy preloads `Route: <our address;lr>`: it comes off and
    /// the Request-URI is looked up.
    @Test func preloadedRouteToUsIsRemovedAndTheUserLookedUp() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        var invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "outbound-1")
        invite.extra = ["Route: " + lab.recordRoute]
        invite.send(to: lab.port)
        let forwarded = try #require(lab.wait(b1, for: Is.request(.invite)), "INVITE with a preloaded Route not forwarded")
        #expect(requestURI(forwarded) == b1.contact("bob"))
        #expect(!forwarded.headers.contains(.route))
        #expect(forwarded.headers.values(.recordRoute) == [lab.recordRoute])
    }

    /// A non-INVITE forks too; the first 2xx goes up, a later final from the other branch does not.
    @Test func messageForksAndTheFirst200Wins() throws {
        let lab = try ProxyLab()
        let b1 = Peer("b1")
        let b2 = Peer("b2")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        try lab.register(b2, user: "bob")
        OutgoingRequest("MESSAGE", "sip:bob@127.0.0.1", from: caller, callID: "mfork-1").send(to: lab.port)
        let m1 = try #require(lab.wait(b1, for: Is.request(.message)))
        let m2 = try #require(lab.wait(b2, for: Is.request(.message)))
        b1.send(reply(m1, 200, tag: "b1"), to: lab.port)
        let ok = try #require(lab.wait(caller, for: Is.final(to: .message)))
        #expect(ok.statusCode == 200)
        // No CANCEL for a non-INVITE (§9.1).
        #expect(silent(b2, lab, seconds: 0.05, Is.request(.cancel)))
        b2.send(reply(m2, 404, tag: "b2"), to: lab.port)
        lab.run(seconds: 0.1)
        #expect(caller.received(where: Is.final(to: .message)).count == 1)
        #expect(lab.host.statefulProxy?.contextCount == 0)
    }

    /// Requests for the proxy itself are answered by it (OPTIONS 200); a CANCEL for nothing gets 481.
    @Test func requestsForTheProxyItself() throws {
        let lab = try ProxyLab()
        let caller = Peer("caller")
        OutgoingRequest("OPTIONS", "sip:127.0.0.1:" + String(lab.port), from: caller, callID: "self-1").send(to: lab.port)
        let options = try #require(lab.wait(caller, for: Is.response(to: .options)))
        #expect(options.statusCode == 200)
        OutgoingRequest("CANCEL", "sip:bob@127.0.0.1", from: caller, callID: "self-2").send(to: lab.port)
        let cancel = try #require(lab.wait(caller, for: Is.response(to: .cancel)))
        #expect(cancel.statusCode == 481)
        #expect(lab.host.statefulProxy?.statistics.requestsForwarded == 0)
    }

    // MARK: Stateless (§16.11)

    @Test func statelessProxyForwardsWithADerivedBranchAndKeepsNoState() throws {
        let lab = try ProxyLab(mode: "stateless-proxy")
        #expect(lab.host.statefulProxy == nil)
        let b1 = Peer("b1")
        let caller = Peer("caller")
        try lab.register(b1, user: "bob")
        // The REGISTER's own transaction (the registrar runs statefully in every mode).
        let before = lab.endpoint.serverTransactionCount
        let invite = OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "sl-1")
        invite.send(to: lab.port)
        let i1 = try #require(lab.wait(b1, for: Is.request(.invite)), "INVITE not forwarded statelessly")
        let branch = try #require(vias(i1).first?.branch)
        #expect(branch.hasPrefix("z9hG4bK-s"))
        let target = ProxyRouting.Target(requestURI: try URI.parse(b1.contact("bob")))
        let original = try #require(invite.parsed)
        #expect(branch == StatelessProxy.branch(for: original, target: target))
        #expect(vias(i1).count == 2)
        #expect(requestURI(i1) == b1.contact("bob"))
        let mf = try i1.maxForwards()
        #expect(mf == 69)
        #expect(i1.headers.values(.recordRoute) == [lab.recordRoute])
        #expect(lab.endpoint.serverTransactionCount == before)

        // The retransmission is forwarded again, with the same branch.
        invite.send(to: lab.port)
        let again = try #require(lab.wait(b1, for: Is.request(.invite)), "retransmission not forwarded")
        #expect(vias(again).first?.branch == branch)

        b1.send(reply(i1, 180, tag: "b1"), to: lab.port)
        let ringing = try #require(lab.wait(caller, for: Is.status(180)), "180 not relayed")
        #expect(vias(ringing).count == 1)
        #expect(vias(ringing).first?.branch == invite.branch)

        // CANCEL takes the same branch (it shares the INVITE's top Via).
        invite.with(method: "CANCEL").send(to: lab.port)
        let cancel = try #require(lab.wait(b1, for: Is.request(.cancel)), "CANCEL not forwarded")
        #expect(vias(cancel).first?.branch == branch)
        #expect(requestURI(cancel) == b1.contact("bob"))
        b1.send(reply(cancel, 200, tag: "b1"), to: lab.port)
        let cancelOK = try #require(lab.wait(caller, for: Is.response(to: .cancel)), "200 to CANCEL not relayed")
        #expect(cancelOK.statusCode == 200)
        #expect(vias(cancelOK).count == 1)
        b1.send(reply(i1, 487, tag: "b1"), to: lab.port)
        let terminated = try #require(lab.wait(caller, for: Is.status(487)), "487 not relayed")
        #expect(vias(terminated).count == 1)
        // The ACK for the non-2xx takes the same branch too.
        invite.with(method: "ACK").send(to: lab.port)
        let ack = try #require(lab.wait(b1, for: Is.request(.ack)), "ACK not forwarded")
        #expect(vias(ack).first?.branch == branch)

        // No 100 Trying from a stateless proxy, and no state: every message was decided afresh.
        #expect(caller.received(where: Is.status(100)).isEmpty)
        #expect(lab.endpoint.serverTransactionCount == before)
        #expect(lab.endpoint.clientTransactionCount == 0)
        let stats = try #require(lab.host.statelessProxy?.statistics)
        #expect(stats.requestsForwarded == 4)
        #expect(stats.responsesForwarded == 3)
    }

    /// Forwarding statelessly to many addresses leaves a bounded number of UDP flows (connected
    /// sockets) open: no client transaction ever ends to close them.
    @Test func statelessForwardingToManyAddressesKeepsFlowsBounded() throws {
        let lab = try ProxyLab(mode: "stateless-proxy")
        let caller = Peer("caller")
        let hops = (0..<(SIPEndpoint.maxIdleFlows + 8)).map { Peer("hop" + String($0)) }
        var relayed = 0
        for (i, hop) in hops.enumerated() {
            var message = OutgoingRequest("MESSAGE", "sip:dave@192.0.2.7", from: caller, callID: "many-" + String(i))
            message.extra = ["Route: <sip:127.0.0.1:" + String(hop.port) + ";lr>"]
            message.send(to: lab.port)
            guard let got = lab.wait(hop, for: Is.request(.message)) else { continue }
            hop.send(reply(got, 200), to: lab.port)
            if lab.wait(caller, for: Is.response(200, to: .message)) != nil { relayed += 1 }
        }
        #expect(relayed == hops.count)
        #expect(lab.endpoint.client.flows.count <= SIPEndpoint.maxIdleFlows + 1, "\(lab.endpoint.client.flows.count) UDP flows open")
        // The busy ones are kept for reuse.
        #expect(lab.endpoint.client.flows.count >= 1)
    }

    @Test func statelessProxyRejectsLikeTheStatefulOne() throws {
        let lab = try ProxyLab(mode: "stateless-proxy")
        let caller = Peer("caller")
        OutgoingRequest("INVITE", "sip:nobody@127.0.0.1", from: caller, callID: "sl-404").send(to: lab.port)
        let notFound = try #require(lab.wait(caller, for: Is.final()))
        #expect(notFound.statusCode == 404)
        var hops = OutgoingRequest("INVITE", "sip:carol@127.0.0.1", from: caller, callID: "sl-483")
        hops.maxForwards = 0
        hops.send(to: lab.port)
        let tooMany = try #require(lab.wait(caller, for: Is.final()))
        #expect(tooMany.statusCode == 483)
        #expect(lab.endpoint.serverTransactionCount == 0)
    }

    // MARK: Persistence

    @Test func bindingsSurviveARestartThroughTheStoreFile() throws {
        let dir = try TemporaryDirectory(prefix: "proxy-store-")
        defer { dir.remove() }
        let path = dir.path + "/location.json"
        let b1 = Peer("b1")
        let caller = Peer("caller")
        do {
            let lab = try ProxyLab(store: path)
            try lab.register(b1, user: "bob")
            #expect(access(path, F_OK) != 0, "saved before the save interval (write-back)")
            lab.host.shutdown()
            #expect(access(path, F_OK) == 0, "shutdown did not save the store")
        }
        let lab = try ProxyLab(store: path)
        #expect(lab.logLines.contains { $0.contains("1 bindings loaded") }, "\(lab.logLines)")
        let aorURI = try URI.parse("sip:bob@127.0.0.1")
        let aor = try #require(AddressOfRecord(aorURI))
        let bindings = lab.host.core.registrar.store.lookup(aor, now: SIPServerClock.now())
        #expect(bindings.map(\.uri.description) == [b1.contact("bob")])
        // And the proxy uses it.
        OutgoingRequest("INVITE", "sip:bob@127.0.0.1", from: caller, callID: "persist-1").send(to: lab.port)
        let forwarded = try #require(lab.wait(b1, for: Is.request(.invite)), "the loaded binding is not used")
        #expect(vias(forwarded).first?.port == lab.port)
        b1.send(reply(forwarded, 486, tag: "b1"), to: lab.port)
        #expect(lab.wait(caller, for: Is.final())?.statusCode == 486)
    }
}
