import SIPCore

/// A dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE creates, and everything needed
/// to send requests inside it.
///
/// ```
///   UAC: 1xx with To tag ──► early ──2xx──► confirmed        (a 2xx may also create it confirmed)
///   UAS: INVITE ──────────► early ──2xx sent──► confirmed
/// ```
///
/// - The ID is Call-ID, local tag, remote tag (`DialogID`).
/// - Local and remote URI are the From and To of the dialog-creating request, seen from this side
///   (with the tags).
/// - The local sequence number is the CSeq of the last request this side sent (empty for a UAS until
///   it sends one); the remote sequence number the CSeq of the last request received (§12.2.2).
/// - The remote target is the peer's Contact URI; target refresh requests and their 2xx update it
///   (§12.2.1.2, §12.2.2).
/// - The route set is the Record-Route of the dialog-creating message: reversed for a UAC (taken from
///   the response), in order for a UAS (§12.1.1, §12.1.2). A UAC recomputes it from the 2xx that
///   confirms an early dialog (§12.1.2, §13.2.2.4).
/// - `isSecure`: the dialog-creating request had a SIPS Request-URI (§12.1.1, §12.1.2; this layer
///   does not see the transport, and SIPS requires TLS on every hop anyway).
public struct Dialog: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case early
        case confirmed
    }

    public private(set) var state: State
    public let id: DialogID
    /// Our URI in the dialog, with our tag (the From of our requests).
    public let localURI: NameAddress
    /// The peer's URI in the dialog, with its tag (the To of our requests).
    public let remoteURI: NameAddress
    /// The CSeq number of the last request we sent in the dialog (nil: none yet, UAS).
    public private(set) var localSequence: UInt32?
    /// The CSeq number of the last request received in the dialog (nil: none yet).
    public private(set) var remoteSequence: UInt32?
    /// Where requests in the dialog go when the route set is empty or loose (the peer's Contact).
    public private(set) var remoteTarget: URI
    /// The Route headers of requests in the dialog, in the order they are sent.
    public private(set) var routeSet: [NameAddress]
    public let isSecure: Bool
    /// Our Contact, put into target refresh requests (INVITE, UPDATE, …) built by `makeRequest`.
    public var localContact: NameAddress?

    /// The dialog a UAC creates from `response` (a 101–299 with a To tag) to its `request`
    /// (RFC 3261 §12.1.2): route set = the response's Record-Route reversed, remote target = its
    /// Contact. A 1xx without Contact falls back to the request's Request-URI (it is replaced by the
    /// 2xx's); a 2xx without Contact is an error (`.missingContact`).
    public init(uac request: SIPMessage, response: SIPMessage) throws(DialogError) {
        try self.init(uac: request, response: response, contactFallback: false)
    }

    /// `contactFallback`: a 2xx without Contact also takes the Request-URI as remote target (used
    /// only to acknowledge and end such a dialog).
    init(uac request: SIPMessage, response: SIPMessage, contactFallback: Bool) throws(DialogError) {
        guard let status = response.statusCode, (101...299).contains(status) else {
            throw DialogError(.malformedMessage, "only a 101-299 response creates a dialog")
        }
        guard let callID = try? request.callID() else { throw DialogError(.malformedMessage, "request without a usable Call-ID") }
        guard let responseCallID = try? response.callID(), responseCallID == callID else {
            throw DialogError(.notInDialog, "response Call-ID differs from the request's")
        }
        guard let from = try? request.from() else { throw DialogError(.malformedMessage, "request without a usable From") }
        guard let localTag = from.tag, !localTag.isEmpty else { throw DialogError(.missingTag, "request From has no tag") }
        guard let to = try? response.to() else { throw DialogError(.malformedMessage, "response without a usable To") }
        guard let remoteTag = to.tag, !remoteTag.isEmpty else { throw DialogError(.missingTag, "response To has no tag") }
        guard let cseq = try? request.cseq() else { throw DialogError(.malformedMessage, "request without a usable CSeq") }
        guard let requestURI = request.requestLine?.uri else { throw DialogError(.malformedMessage, "not a request") }
        let target: URI
        if let contact = Dialog.contactURI(of: response) {
            target = contact
        } else if status < 200 || contactFallback {
            target = requestURI
        } else {
            throw DialogError(.missingContact, "2xx without a usable Contact")
        }
        guard let recordRoutes = try? response.recordRoutes() else {
            throw DialogError(.malformedMessage, "response Record-Route does not parse")
        }
        self.state = status < 200 ? .early : .confirmed
        self.id = DialogID(callID: callID, localTag: localTag, remoteTag: remoteTag)
        self.localURI = from
        self.remoteURI = to
        self.localSequence = cseq.sequence
        self.remoteSequence = nil
        self.remoteTarget = target
        self.routeSet = recordRoutes.reversed()
        self.isSecure = requestURI.sipURI?.isSecure == true
        self.localContact = Dialog.contactAddress(of: request)
    }

    /// The dialog a UAS creates for the dialog-creating `request` it received (RFC 3261 §12.1.1),
    /// early until `confirm()`: route set = Record-Route in order, remote target = the request's
    /// Contact (required: `.missingContact` otherwise), remote sequence = its CSeq, local sequence
    /// empty. `localTag` is the To tag this side puts in its responses.
    public init(uas request: SIPMessage, localTag: String, localContact: NameAddress?) throws(DialogError) {
        guard let callID = try? request.callID() else { throw DialogError(.malformedMessage, "request without a usable Call-ID") }
        guard let from = try? request.from() else { throw DialogError(.malformedMessage, "request without a usable From") }
        guard var to = try? request.to() else { throw DialogError(.malformedMessage, "request without a usable To") }
        guard let cseq = try? request.cseq() else { throw DialogError(.malformedMessage, "request without a usable CSeq") }
        guard let requestURI = request.requestLine?.uri else { throw DialogError(.malformedMessage, "not a request") }
        guard let target = Dialog.contactURI(of: request) else {
            throw DialogError(.missingContact, "request without a usable Contact")
        }
        guard let recordRoutes = try? request.recordRoutes() else {
            throw DialogError(.malformedMessage, "request Record-Route does not parse")
        }
        to.tag = localTag
        self.state = .early
        self.id = DialogID(callID: callID, localTag: localTag, remoteTag: from.tag ?? "")
        self.localURI = to
        self.remoteURI = from
        self.localSequence = nil
        self.remoteSequence = cseq.sequence
        self.remoteTarget = target
        self.routeSet = recordRoutes
        self.isSecure = requestURI.sipURI?.isSecure == true
        self.localContact = localContact
    }

    // MARK: State changes

    /// UAC: the 2xx for this early dialog arrived (RFC 3261 §13.2.2.4): the dialog is confirmed and
    /// its route set and remote target are recomputed from the 2xx. Throws (and changes nothing) when
    /// the 2xx belongs to another dialog or has no usable Contact or Record-Route.
    public mutating func confirm(with response: SIPMessage) throws(DialogError) {
        guard let status = response.statusCode, (200...299).contains(status) else {
            throw DialogError(.malformedMessage, "only a 2xx confirms a dialog")
        }
        guard DialogID(receivedResponse: response) == id else {
            throw DialogError(.notInDialog, "2xx for another dialog")
        }
        guard let target = Dialog.contactURI(of: response) else {
            throw DialogError(.missingContact, "2xx without a usable Contact")
        }
        guard let recordRoutes = try? response.recordRoutes() else {
            throw DialogError(.malformedMessage, "2xx Record-Route does not parse")
        }
        state = .confirmed
        remoteTarget = target
        routeSet = recordRoutes.reversed()
    }

    /// UAS: the 2xx to the dialog-creating request was sent (RFC 3261 §12.1.1).
    public mutating func confirm() { state = .confirmed }

    /// Target refresh (RFC 3261 §12.2.1.2, §12.2.2; RFC 3311 §5.2): when `message` (a re-INVITE or
    /// UPDATE received, or the 2xx to one we sent) has a Contact, it becomes the remote target.
    /// Returns whether the target changed; a missing or malformed Contact changes nothing.
    @discardableResult
    public mutating func refreshTarget(from message: SIPMessage) -> Bool {
        guard let uri = Dialog.contactURI(of: message), uri != remoteTarget else { return false }
        remoteTarget = uri
        return true
    }

    /// Checks a request received for this dialog (RFC 3261 §12.2.2) and records its CSeq:
    /// - Call-ID, To tag (ours) and From tag (the peer's) must match: else 481;
    /// - CSeq must parse and name the request's method: else 400;
    /// - a CSeq lower than the last one received is out of order: 500. ACK and CANCEL reuse the
    ///   INVITE's number and are not checked against it nor recorded.
    public mutating func accepts(_ request: SIPMessage) -> RequestCheck {
        guard let method = request.method else { return .rejected(status: 400, reason: "Not A Request") }
        guard let callID = try? request.callID(), let from = try? request.from(), let to = try? request.to() else {
            return .rejected(status: 400, reason: "Bad Request")
        }
        guard callID == id.callID, to.tag == id.localTag, (from.tag ?? "") == id.remoteTag else {
            return .rejected(status: 481, reason: "Call/Transaction Does Not Exist")
        }
        guard let cseq = try? request.cseq(), cseq.method == method else {
            return .rejected(status: 400, reason: "Bad CSeq")
        }
        if method == .ack || method == .cancel { return .accepted }
        if let last = remoteSequence, cseq.sequence < last {
            return .rejected(status: 500, reason: "CSeq Out Of Order")
        }
        remoteSequence = cseq.sequence
        return .accepted
    }

    /// The verdict of `accepts(_:)`.
    public enum RequestCheck: Sendable, Hashable {
        case accepted
        /// Answer the request with this status (and do nothing else with it).
        case rejected(status: Int, reason: String)
    }

    // MARK: Requests (§12.2.1.1)

    /// A request inside the dialog (RFC 3261 §12.2.1.1), without Via (the transport layer adds it)
    /// and without body:
    /// - To = remote URI with the remote tag, From = local URI with the local tag, the Call-ID;
    /// - CSeq = the local sequence number plus one (recorded), or 1 when it is empty; ACK and CANCEL
    ///   reuse the current number (use `makeACK(inviteSequence:)` for the ACK of a given INVITE);
    /// - routing: with an empty route set, or a loose router (`lr`) first, the Request-URI is the
    ///   remote target and the Route headers are the route set; with a strict router first, the
    ///   Request-URI is that router's URI and the remote target is appended as the last Route;
    /// - Max-Forwards 70, Contact (our `localContact`) in target refresh requests (INVITE, UPDATE)
    ///   and in SUBSCRIBE, NOTIFY and REFER, Content-Length 0.
    public mutating func makeRequest(_ method: SIPMethod) -> SIPMessage {
        let sequence: UInt32
        if method == .ack || method == .cancel {
            sequence = localSequence ?? 1
        } else {
            sequence = Dialog.next(after: localSequence)
            localSequence = sequence
        }
        return build(method, sequence: sequence)
    }

    /// The ACK for the 2xx to the INVITE with CSeq number `inviteSequence` (RFC 3261 §13.2.2.4):
    /// built like any request in the dialog but with that number and method ACK. The caller adds the
    /// INVITE's credentials and, for an offer in a 2xx, the answer.
    public func makeACK(inviteSequence: UInt32) -> SIPMessage {
        build(.ack, sequence: inviteSequence)
    }

    private func build(_ method: SIPMethod, sequence: UInt32) -> SIPMessage {
        let (requestURI, routes) = Dialog.routing(target: remoteTarget, routeSet: routeSet)
        var headers = SIPHeaders()
        for route in routes { headers.append(.route, route.description) }
        headers.append(.maxForwards, "70")
        headers.append(.from, localURI.description)
        headers.append(.to, remoteURI.description)
        headers.append(.callID, id.callID)
        headers.append(.cseq, CSeq(sequence, method).description)
        if let localContact, Dialog.carriesContact(method) { headers.append(.contact, localContact.description) }
        headers.append(.contentLength, "0")
        return SIPMessage(method: method, uri: requestURI, headers: headers)
    }

    // MARK: Helpers shared with the session

    /// The sequence number after `n` (1 when empty), kept below 2^31 (§8.1.1.5): wraps to 1.
    static func next(after n: UInt32?) -> UInt32 {
        guard let n else { return 1 }
        return n >= 0x7FFF_FFFF ? 1 : n + 1
    }

    /// Methods whose requests carry our Contact (RFC 3261 §8.1.1.8, RFC 3311, RFC 6665, RFC 3515).
    static func carriesContact(_ method: SIPMethod) -> Bool {
        method == .invite || method == .update || method == .subscribe || method == .notify || method == .refer
    }

    /// Request-URI and Route headers for `target` behind `routeSet` (§12.2.1.1, also §8.1.2 for a
    /// preloaded route set).
    static func routing(target: URI, routeSet: [NameAddress]) -> (URI, [NameAddress]) {
        guard let first = routeSet.first, case .sip(let firstURI) = first.uri, !firstURI.isLooseRouter else {
            return (requestURI(target), routeSet)
        }
        // Strict router: it gets the Request-URI; the remote target travels as the last Route.
        var routes = Array(routeSet.dropFirst())
        routes.append(NameAddress(uri: target))
        return (requestURI(.sip(firstURI)), routes)
    }

    /// `uri` without what a Request-URI must not carry (RFC 3261 §19.1.1, table 1: headers and the
    /// `method` parameter).
    static func requestURI(_ uri: URI) -> URI {
        guard case .sip(var sip) = uri else { return uri }
        sip.headers = []
        sip.parameters.remove("method")
        return .sip(sip)
    }

    /// The first Contact address of `message` (nil when absent, `*` or malformed).
    static func contactAddress(of message: SIPMessage) -> NameAddress? {
        guard let contact = try? message.contact(), case .addresses(let list) = contact else { return nil }
        return list.first
    }

    static func contactURI(of message: SIPMessage) -> URI? { contactAddress(of: message)?.uri }
}
