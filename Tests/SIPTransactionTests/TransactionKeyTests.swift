import DialtoneTestKit
import SIPCore
import SIPTransaction
import Testing

@Suite struct TransactionKeyTests {
    @Test func clientKeyMatchesResponsesByBranchAndCSeqMethod() throws {
        let invite = try TestMessages.invite()
        let requestKey = try #require(TransactionKey.clientKey(for: invite))
        let responseKey = TransactionKey.clientKey(for: TestMessages.response(180, to: invite))
        #expect(responseKey == requestKey)
        #expect(requestKey.role == .client)
        #expect(requestKey.method == .invite)
        // Same branch, other method (the CANCEL for this INVITE): another transaction.
        let cancel = InviteClientTransaction.cancel(for: invite)
        let cancelKey = TransactionKey.clientKey(for: TestMessages.response(200, to: cancel))
        #expect(cancelKey != nil)
        #expect(cancelKey != requestKey)
        // Other branch: another transaction.
        let other = try TestMessages.invite(branch: "z9hG4bKother")
        #expect(TransactionKey.clientKey(for: TestMessages.response(180, to: other)) != requestKey)
    }

    @Test func clientKeyComparesBranchesCaseInsensitively() throws {
        let invite = try TestMessages.invite(branch: "z9hG4bKAbCdEf")
        let upper = try TestMessages.invite(branch: "z9hG4bKABCDEF")
        let a = TransactionKey.clientKey(for: invite)
        let b = TransactionKey.clientKey(for: TestMessages.response(200, to: upper))
        #expect(a != nil)
        #expect(a == b)
    }

    @Test func clientKeyNeedsABranchAndACSeq() throws {
        let noBranch = try SIPMessage(parsing: "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        #expect(TransactionKey.clientKey(for: noBranch) == nil)
        let noCSeq = try SIPMessage(parsing: "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx1\r\nContent-Length: 0\r\n\r\n")
        #expect(TransactionKey.clientKey(for: noCSeq) == nil)
    }

    @Test func serverKeyMatchesRetransmissionsAndACKToTheInvite() throws {
        let invite = try TestMessages.invite()
        let key = try #require(TransactionKey.serverKey(for: invite))
        #expect(key.role == .server)
        #expect(key.isRFC2543 == false)
        let retransmission = try TestMessages.invite()
        #expect(TransactionKey.serverKey(for: retransmission) == key)
        // The ACK for a non-2xx response carries the same branch: it matches the INVITE transaction.
        let ack = TestMessages.ack(for: invite, response: TestMessages.response(486, to: invite))
        #expect(TransactionKey.serverKey(for: ack) == key)
        // A client key with the same branch is a different key (a request looped back to us).
        #expect(TransactionKey.clientKey(for: invite) != key)
    }

    @Test func serverKeyIncludesSentByAndMethod() throws {
        let invite = try TestMessages.invite()
        let key = TransactionKey.serverKey(for: invite)
        let otherSentBy = try TestMessages.request("INVITE", sentBy: "192.0.2.99:5060")
        #expect(TransactionKey.serverKey(for: otherSentBy) != key)
        let otherPort = try TestMessages.request("INVITE", sentBy: "192.0.2.1")
        #expect(TransactionKey.serverKey(for: otherPort) != key)
        let bye = try TestMessages.request("BYE")
        #expect(TransactionKey.serverKey(for: bye) != key)
        let upperHost = try TestMessages.request("OPTIONS", sentBy: "PC33.Example.COM")
        let lowerHost = try TestMessages.request("OPTIONS", sentBy: "pc33.example.com")
        #expect(TransactionKey.serverKey(for: upperHost) == TransactionKey.serverKey(for: lowerHost))
    }

    @Test func cancelMatchesTheInviteItCancels() throws {
        let invite = try TestMessages.invite()
        let cancel = InviteClientTransaction.cancel(for: invite)
        let inviteKey = TransactionKey.serverKey(for: invite)
        let target = TransactionKey.cancelledKey(for: cancel)
        #expect(target != nil)
        #expect(target == inviteKey)
        // The CANCEL's own server transaction is a different one.
        #expect(TransactionKey.serverKey(for: cancel) != inviteKey)
        #expect(TransactionKey.serverKey(for: cancel)?.method == .cancel)
        // Only a CANCEL has a cancelled key; a CANCEL for another branch matches nothing here.
        #expect(TransactionKey.cancelledKey(for: invite) == nil)
        let stray = InviteClientTransaction.cancel(for: try TestMessages.invite(branch: "z9hG4bKelse"))
        #expect(TransactionKey.cancelledKey(for: stray) != inviteKey)
    }

    @Test func rfc2543FallbackForInv2543() throws {
        let invite = try SIPMessage.parse(datagram: Fixtures.bytes("rfc4475/semantic/inv2543.sip"))
        let key = try #require(TransactionKey.serverKey(for: invite))
        #expect(key.isRFC2543)
        #expect(key.method == .invite)
        let again = try SIPMessage.parse(datagram: Fixtures.bytes("rfc4475/semantic/inv2543.sip"))
        #expect(TransactionKey.serverKey(for: again) == key)
        // The ACK (To tag of the response, CSeq method ACK) matches the INVITE.
        let ack = TestMessages.ack(for: invite, response: TestMessages.response(404, to: invite, toTag: "t1"))
        #expect(TransactionKey.serverKey(for: ack) == key)
        // Another CSeq number, Call-ID or Request-URI is another transaction.
        var otherCSeq = invite
        otherCSeq.headers.set(.cseq, "57 INVITE")
        #expect(TransactionKey.serverKey(for: otherCSeq) != key)
        var otherCall = invite
        otherCall.headers.set(.callID, "different@ift.client.example.com")
        #expect(TransactionKey.serverKey(for: otherCall) != key)
        var otherURI = invite
        otherURI.startLine = .request(RequestLine(method: .invite, uri: try URI.parse("sip:UserC@example.com")))
        #expect(TransactionKey.serverKey(for: otherURI) != key)
        // The host part of the Request-URI compares case-insensitively.
        var upperHost = invite
        upperHost.startLine = .request(RequestLine(method: .invite, uri: try URI.parse("sip:UserB@EXAMPLE.com")))
        #expect(TransactionKey.serverKey(for: upperHost) == key)
        // A CANCEL for it matches through the cancelled key.
        let cancel = InviteClientTransaction.cancel(for: invite)
        #expect(TransactionKey.cancelledKey(for: cancel) == key)
    }

    @Test func badBranchUsesTheFallbackWithToTag() throws {
        let options = try SIPMessage.parse(datagram: Fixtures.bytes("rfc4475/semantic/badbranch.sip"))
        let key = try #require(TransactionKey.serverKey(for: options))
        // The bare magic cookie is not an RFC 3261 branch (RFC 4475 §3.3.13).
        #expect(key.isRFC2543)
        #expect(key.method == .options)
        var tagged = options
        tagged.headers.set(.to, "sip:user@example.com;tag=zzz")
        #expect(TransactionKey.serverKey(for: tagged) != key)
        var otherFromTag = options
        otherFromTag.headers.set(.from, "sip:caller@example.org;tag=99999")
        #expect(TransactionKey.serverKey(for: otherFromTag) != key)
        var otherVia = options
        otherVia.headers.set(.via, "SIP/2.0/UDP 192.0.2.2;branch=z9hG4bK")
        #expect(TransactionKey.serverKey(for: otherVia) != key)
    }

    @Test func unidentifiableRequestsHaveNoServerKey() throws {
        let noVia = try SIPMessage(parsing: "OPTIONS sip:a@example.com SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nContent-Length: 0\r\n\r\n")
        #expect(TransactionKey.serverKey(for: noVia) == nil)
        let noCallID = try SIPMessage(parsing: "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nContent-Length: 0\r\n\r\n")
        #expect(TransactionKey.serverKey(for: noCallID) == nil)
        // A response has no server key.
        let response = TestMessages.response(200, to: try TestMessages.options())
        #expect(TransactionKey.serverKey(for: response) == nil)
    }
}
