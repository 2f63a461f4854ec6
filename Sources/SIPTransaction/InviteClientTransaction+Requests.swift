import SIPCore

extension InviteClientTransaction {
    /// The ACK for a non-2xx final response, built by the client transaction (RFC 3261 §17.1.1.3):
    /// the Request-URI, Call-ID and From of the original INVITE, the To of the response (the INVITE's
    /// when the response has none), the INVITE's top Via only, CSeq with the INVITE's number and method
    /// ACK, the INVITE's Route headers, Max-Forwards 70 and no body.
    public static func ack(for invite: SIPMessage, response: SIPMessage) -> SIPMessage {
        var headers = SIPHeaders()
        if let via = invite.headers.listValues(.via).first { headers.append(.via, via) }
        for route in invite.headers.values(.route) { headers.append(.route, route) }
        headers.append(.maxForwards, "70")
        if let from = invite.headers[.from] { headers.append(.from, from) }
        if let to = response.headers[.to] ?? invite.headers[.to] { headers.append(.to, to) }
        if let callID = invite.headers[.callID] { headers.append(.callID, callID) }
        let sequence = (try? invite.cseq())?.sequence ?? 0
        headers.append(.cseq, CSeq(sequence, .ack).description)
        headers.append(.contentLength, "0")
        return SIPMessage(method: .ack, uri: requestURI(of: invite), headers: headers)
    }

    /// A CANCEL for `request` (RFC 3261 §9.1): the same Request-URI, Call-ID, To, From and CSeq number
    /// (method CANCEL), a single Via equal to the request's top Via (so the same branch), the request's
    /// Route headers, Max-Forwards 70 and no body. It runs in its own non-INVITE client transaction.
    public static func cancel(for request: SIPMessage) -> SIPMessage {
        var headers = SIPHeaders()
        if let via = request.headers.listValues(.via).first { headers.append(.via, via) }
        for route in request.headers.values(.route) { headers.append(.route, route) }
        headers.append(.maxForwards, "70")
        if let from = request.headers[.from] { headers.append(.from, from) }
        if let to = request.headers[.to] { headers.append(.to, to) }
        if let callID = request.headers[.callID] { headers.append(.callID, callID) }
        let sequence = (try? request.cseq())?.sequence ?? 0
        headers.append(.cseq, CSeq(sequence, .cancel).description)
        headers.append(.contentLength, "0")
        return SIPMessage(method: .cancel, uri: requestURI(of: request), headers: headers)
    }

    private static func requestURI(of request: SIPMessage) -> URI {
        if let uri = request.requestLine?.uri { return uri }
        return .other(scheme: "sip", rest: "invalid")
    }
}
