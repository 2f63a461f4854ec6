import SIPCore
import SIPTransaction
import SIPDialog
import Testing

@Suite struct DialogTests {
    /// The INVITE our session would send (no Via: the endpoint adds it).
    func invite(uri: String = "sip:bob@example.com") throws -> SIPMessage {
        var call = Fixture.call()
        call.target = Fixture.uri(uri)
        var session = InviteSession(outgoing: call)
        return try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
    }

    // MARK: Creation (§12.1)

    @Test func uacDialogFrom2xxReversesRecordRoute() throws {
        let request = try invite()
        let ok = Fixture.respond(200, to: request, recordRoute: ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        let dialog = try Dialog(uac: request, response: ok)
        #expect(dialog.state == .confirmed)
        #expect(dialog.id == DialogID(callID: Fixture.callID, localTag: "a1", remoteTag: "b1"))
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.20:5060")
        #expect(dialog.localSequence == 1)
        #expect(dialog.remoteSequence == nil)
        #expect(dialog.localURI.tag == "a1")
        #expect(dialog.remoteURI.tag == "b1")
        #expect(dialog.localContact?.description == "<sip:alice@192.0.2.1:5060>")
        #expect(!dialog.isSecure)
    }

    @Test func uacEarlyDialogFrom1xxWithTag() throws {
        let request = try invite()
        let ringing = Fixture.respond(180, to: request, tag: "b7")
        let dialog = try Dialog(uac: request, response: ringing)
        #expect(dialog.state == .early)
        #expect(dialog.id.remoteTag == "b7")
        // A 1xx without Contact falls back to the Request-URI.
        let bare = Fixture.respond(183, to: request, tag: "b8", contact: nil)
        let early = try Dialog(uac: request, response: bare)
        #expect(early.remoteTarget.description == "sip:bob@example.com")
    }

    @Test func creationFailuresAreValues() throws {
        let request = try invite()
        #expect(throws: DialogError.self) { try Dialog(uac: request, response: Fixture.respond(180, to: request, tag: nil)) }
        #expect(throws: DialogError.self) { try Dialog(uac: request, response: Fixture.respond(100, to: request)) }
        #expect(throws: DialogError.self) { try Dialog(uac: request, response: Fixture.respond(486, to: request)) }
        do throws(DialogError) {
            _ = try Dialog(uac: request, response: Fixture.respond(200, to: request, contact: nil))
            Issue.record("a 2xx without Contact created a dialog")
        } catch {
            #expect(error.code == .missingContact)
        }
        var other = Fixture.respond(200, to: request)
        other.headers.set(.callID, "other@192.0.2.99")
        do throws(DialogError) {
            _ = try Dialog(uac: request, response: other)
            Issue.record("a 2xx with another Call-ID created a dialog")
        } catch {
            #expect(error.code == .notInDialog)
        }
        var broken = Fixture.respond(200, to: request)
        broken.headers.append(.recordRoute, "sip:no-brackets.example.com")
        #expect(throws: DialogError.self) { try Dialog(uac: request, response: broken) }
    }

    @Test func secureFlagFollowsSIPSRequestURI() throws {
        let request = try invite(uri: "sips:bob@example.com")
        let dialog = try Dialog(uac: request, response: Fixture.respond(200, to: request, contact: "<sips:bob@192.0.2.20>"))
        #expect(dialog.isSecure)
    }

    @Test func uasDialogKeepsRecordRouteInOrder() throws {
        let request = try Fixture.incomingInvite()
        let dialog = try Dialog(uas: request, localTag: "a9", localContact: Fixture.address("<sip:alice@192.0.2.1:5060>"))
        #expect(dialog.state == .early)
        #expect(dialog.id == DialogID(callID: "in-777@192.0.2.20", localTag: "a9", remoteTag: "b9"))
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.20:5060")
        #expect(dialog.remoteSequence == 100)
        #expect(dialog.localSequence == nil)
        #expect(dialog.localURI.tag == "a9")
        #expect(dialog.remoteURI.tag == "b9")
        let bare = try Fixture.incomingInvite(contact: nil)
        do throws(DialogError) {
            _ = try Dialog(uas: bare, localTag: "a9", localContact: nil)
            Issue.record("an INVITE without Contact created a dialog")
        } catch {
            #expect(error.code == .missingContact)
        }
    }

    // MARK: Requests (§12.2.1.1)

    @Test func looseRoutingPutsRemoteTargetInRequestURI() throws {
        let request = try invite()
        var dialog = try Dialog(uac: request, response: Fixture.respond(200, to: request,
                                                                       recordRoute: ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]))
        let bye = dialog.makeRequest(.bye)
        #expect(bye.method == .bye)
        #expect(bye.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(bye.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(bye.cseqText == "2 BYE")
        #expect(bye.fromTagValue == "a1")
        #expect(bye.toTagValue == "b1")
        #expect(bye.headers[.callID] == Fixture.callID)
        #expect(bye.headers[.maxForwards] == "70")
        #expect(bye.headers[.contact] == nil)
        #expect(bye.headers[.via] == nil)
        #expect(dialog.localSequence == 2)
        // Target refresh requests carry our Contact; ACK and CANCEL reuse the number.
        let reinvite = dialog.makeRequest(.invite)
        #expect(reinvite.cseqText == "3 INVITE")
        #expect(reinvite.headers[.contact] == "<sip:alice@192.0.2.1:5060>")
        let ack = dialog.makeRequest(.ack)
        let cancel = dialog.makeRequest(.cancel)
        #expect(ack.cseqText == "3 ACK")
        #expect(cancel.cseqText == "3 CANCEL")
        #expect(dialog.makeACK(inviteSequence: 1).cseqText == "1 ACK")
        #expect(dialog.localSequence == 3)
    }

    @Test func strictRouterGetsTheRequestURIAndTargetGoesLast() throws {
        let request = try invite()
        // Reversed by the UAC: the first route is the strict router p1 (no lr).
        let ok = Fixture.respond(200, to: request, contact: "<sip:bob@192.0.2.20:5060;transport=udp>",
                                 recordRoute: ["<sip:p2.example.com;lr>", "<sip:p1.example.com;method=INVITE>"])
        var dialog = try Dialog(uac: request, response: ok)
        let bye = dialog.makeRequest(.bye)
        // Request-URI: the strict router's URI without what a Request-URI must not carry.
        #expect(bye.requestURIText == "sip:p1.example.com")
        #expect(bye.routeValues == ["<sip:p2.example.com;lr>", "<sip:bob@192.0.2.20:5060;transport=udp>"])
    }

    @Test func uasFirstRequestStartsAtOne() throws {
        var dialog = try Dialog(uas: try Fixture.incomingInvite(), localTag: "a9",
                                localContact: Fixture.address("<sip:alice@192.0.2.1:5060>"))
        let bye = dialog.makeRequest(.bye)
        #expect(bye.cseqText == "1 BYE")
        #expect(bye.fromTagValue == "a9")
        #expect(bye.toTagValue == "b9")
        #expect(bye.requestURIText == "sip:bob@192.0.2.20:5060")
        #expect(bye.routeValues == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(bye.headers[.from] == "\"Alice\" <sip:alice@example.com>;tag=a9")
    }

    // MARK: Checks (§12.2.2)

    @Test func lowerCSeqInDialogGets500() throws {
        var dialog = try Dialog(uas: try Fixture.incomingInvite(), localTag: "a9", localContact: nil)
        let info = try Fixture.inDialog("INFO", cseq: 101, branch: "z9hG4bK1")
        let late = try Fixture.inDialog("INFO", cseq: 99, branch: "z9hG4bK2")
        let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bK3")
        let bye = try Fixture.inDialog("BYE", cseq: 102, branch: "z9hG4bK4")
        let first = dialog.accepts(info)
        #expect(first == .accepted)
        #expect(dialog.remoteSequence == 101)
        let second = dialog.accepts(late)
        #expect(second == .rejected(status: 500, reason: "CSeq Out Of Order"))
        #expect(dialog.remoteSequence == 101)
        // ACK reuses the INVITE's number: not out of order.
        let third = dialog.accepts(ack)
        #expect(third == .accepted)
        let fourth = dialog.accepts(bye)
        #expect(fourth == .accepted)
        #expect(dialog.remoteSequence == 102)
    }

    @Test func foreignOrBrokenRequestsAreRejected() throws {
        var dialog = try Dialog(uas: try Fixture.incomingInvite(), localTag: "a9", localContact: nil)
        let notFound = Dialog.RequestCheck.rejected(status: 481, reason: "Call/Transaction Does Not Exist")
        let badCSeq = Dialog.RequestCheck.rejected(status: 400, reason: "Bad CSeq")
        let wrongTo = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bK1", toTag: "zz")
        let wrongFrom = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bK1", fromTag: "zz")
        let wrongCallID = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bK1", callID: "x@y")
        var mismatched = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bK1")
        mismatched.headers.set(.cseq, "101 INVITE")
        var garbage = try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bK1")
        garbage.headers.set(.cseq, "eleven BYE")
        let results = [dialog.accepts(wrongTo), dialog.accepts(wrongFrom), dialog.accepts(wrongCallID),
                       dialog.accepts(mismatched), dialog.accepts(garbage)]
        #expect(results == [notFound, notFound, notFound, badCSeq, badCSeq])
        #expect(dialog.remoteSequence == 100)
    }

    // MARK: Target refresh and confirmation

    @Test func targetRefreshFromContact() throws {
        var dialog = try Dialog(uas: try Fixture.incomingInvite(), localTag: "a9", localContact: nil)
        let reinvite = try Fixture.inDialog("INVITE", cseq: 101, branch: "z9hG4bK1", extra: ["Contact: <sip:bob@192.0.2.21:5070>"])
        let changed = dialog.refreshTarget(from: reinvite)
        #expect(changed)
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.21:5070")
        // No Contact, or a broken one: unchanged.
        let noContact = try Fixture.inDialog("UPDATE", cseq: 102, branch: "z9hG4bK2")
        let brokenContact = try Fixture.inDialog("UPDATE", cseq: 103, branch: "z9hG4bK3", extra: ["Contact: <sip:broken"])
        let changedByNone = dialog.refreshTarget(from: noContact)
        let changedByBroken = dialog.refreshTarget(from: brokenContact)
        #expect(!changedByNone)
        #expect(!changedByBroken)
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.21:5070")
    }

    @Test func confirmRecomputesRouteSetFrom2xx() throws {
        let request = try invite()
        var dialog = try Dialog(uac: request, response: Fixture.respond(180, to: request, recordRoute: ["<sip:old.example.com;lr>"]))
        let ok = Fixture.respond(200, to: request, contact: "<sip:bob@192.0.2.30>", recordRoute: ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"])
        try dialog.confirm(with: ok)
        #expect(dialog.state == .confirmed)
        #expect(dialog.routeSet.map(\.description) == ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"])
        #expect(dialog.remoteTarget.description == "sip:bob@192.0.2.30")
        // A 2xx of another fork does not confirm this dialog.
        var other = try Dialog(uac: request, response: Fixture.respond(180, to: request, tag: "b2"))
        #expect(throws: DialogError.self) { try other.confirm(with: ok) }
        #expect(other.state == .early)
    }

    @Test func sequenceWrapsBelow2to31() throws {
        var call = Fixture.call(sequence: 0x7FFF_FFFF)
        call.target = Fixture.uri("sip:bob@example.com")
        var session = InviteSession(outgoing: call)
        let request = try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
        var dialog = try Dialog(uac: request, response: Fixture.respond(200, to: request))
        let bye = dialog.makeRequest(.bye)
        #expect(bye.cseqText == "1 BYE")
    }

    @Test func dialogIDFromMessages() throws {
        let request = try Fixture.inDialog("BYE", cseq: 5, branch: "z9hG4bK1")
        #expect(DialogID(receivedRequest: request) == DialogID(callID: "in-777@192.0.2.20", localTag: "a9", remoteTag: "b9"))
        let outside = try Fixture.incomingInvite()
        #expect(DialogID(receivedRequest: outside) == nil)
        let outgoing = try invite()
        #expect(DialogID(receivedResponse: Fixture.respond(180, to: outgoing, tag: "b3"))
                == DialogID(callID: Fixture.callID, localTag: "a1", remoteTag: "b3"))
        #expect(DialogID(receivedResponse: Fixture.respond(100, to: outgoing)) == nil)
    }
}

@Suite struct RedirectPolicyTests {
    @Test func followsTheFirstUntriedTarget() {
        var policy = RedirectPolicy(initialTarget: Fixture.uri("sip:bob@example.com"))
        let a = Fixture.uri("sip:bob@192.0.2.40")
        let b = Fixture.uri("sip:bob@192.0.2.41")
        let first = policy.redirected(to: [a, b])
        #expect(first == .follow(a))
        // a is tried now: the next 3xx naming a and b goes to b.
        let second = policy.redirected(to: [Fixture.uri("sip:bob@192.0.2.40"), b])
        #expect(second == .follow(b))
        #expect(policy.redirects == 2)
        #expect(policy.tried.count == 3)
    }

    @Test func aTargetAlreadyTriedIsALoop() {
        var policy = RedirectPolicy(initialTarget: Fixture.uri("sip:bob@example.com"))
        // Equivalent per §19.1.4 (host case-insensitive).
        let loop = policy.redirected(to: [Fixture.uri("sip:bob@EXAMPLE.com")])
        let none = policy.redirected(to: [])
        #expect(loop == .loop)
        #expect(none == .noTarget)
        #expect(policy.redirects == 0)
    }

    @Test func stopsAfterFiveRedirects() {
        var policy = RedirectPolicy(initialTarget: Fixture.uri("sip:bob@example.com"))
        for hop in 1...5 {
            let target = Fixture.uri("sip:bob@192.0.2." + String(50 + hop))
            let decision = policy.redirected(to: [target])
            #expect(decision == .follow(target))
        }
        let sixth = policy.redirected(to: [Fixture.uri("sip:bob@192.0.2.99")])
        #expect(sixth == .tooManyRedirects)
    }
}
