import SIPCore
import SIPTransaction

/// One binding of an address-of-record to a contact address (RFC 3261 §10, §10.3 steps 7–8), with
/// what a proxy needs to reach it: the Path to route through (RFC 3327 §5.3) and the source the
/// REGISTER came from (for phones behind NAT).
public struct Binding: Sendable, Hashable {
    /// The Contact as the UA sent it, without its `expires` parameter (the registrar states its own,
    /// §10.3 step 8); `q`, `+sip.instance`, `reg-id` and other parameters are kept.
    public var contact: NameAddress
    /// When the binding expires, on the monotonic clock.
    public var expires: Instant
    /// Call-ID and CSeq of the REGISTER that last set it (§10.3 step 7 ordering).
    public var callID: String
    public var cseq: UInt32
    /// Path header values of that REGISTER, in order (RFC 3327 §5.3); a proxy routes through them.
    public var path: [NameAddress]
    /// Where that REGISTER came from (nil when unknown).
    public var source: RegistrationSource?
    /// Whether a proxy reaches the contact through `source` rather than the contact's own address:
    /// the REGISTER showed NAT (its Via sent-by was not where it came from) or asked for an outbound
    /// flow (RFC 5626 `reg-id`). A REGISTER sent straight from its contact's address, or on behalf of
    /// another device (§10: third-party registration), keeps the contact.
    public var reachThroughSource: Bool
    /// When it was last registered or refreshed (ties in q are broken by most recent first).
    public var updated: Instant

    public init(contact: NameAddress, expires: Instant, callID: String, cseq: UInt32,
                path: [NameAddress] = [], source: RegistrationSource? = nil, reachThroughSource: Bool = false,
                updated: Instant) {
        var c = contact
        c.parameters.remove("expires")
        self.contact = c
        self.expires = expires
        self.callID = callID
        self.cseq = cseq
        self.path = path
        self.source = source
        self.reachThroughSource = reachThroughSource && source != nil
        self.updated = updated
    }

    /// The contact URI: where requests for the AOR are sent (§16.5).
    public var uri: URI { contact.uri }

    /// `q` in thousandths (0…1000), nil when the Contact had none.
    public var qThousandths: Int? {
        guard let q = try? contact.qValue() else { return nil }
        return Int((q * 1000).rounded())
    }

    /// The `q` parameter (0.0…1.0), nil when absent.
    public var q: Double? { qThousandths.map { Double($0) / 1000 } }

    /// The preference used for ordering and forking: `q`, or 1.0 when absent (the highest, as a
    /// contact without q is not meant to be tried after those that state one).
    public var effectiveQThousandths: Int { qThousandths ?? 1000 }

    /// `+sip.instance` as written (RFC 5626 §4.1, RFC 5627), e.g. `"<urn:uuid:…>"`.
    public var instanceID: String? { contact.parameters.parameter("+sip.instance").flatMap { $0 } }

    /// `reg-id` (RFC 5626 §4.2), nil when absent or not a number.
    public var regID: UInt32? { contact.parameters.parameter("reg-id").flatMap { $0 }.flatMap { UInt32($0) } }

    /// Whole seconds left at `now`, rounded up (0 once expired).
    public func remainingSeconds(at now: Instant) -> UInt32 {
        guard expires > now else { return 0 }
        let ns = expires.nanoseconds &- now.nanoseconds
        return UInt32(clamping: ns / 1_000_000_000 + (ns % 1_000_000_000 == 0 ? 0 : 1))
    }

    /// The Contact header value of a 200 to REGISTER: the contact with `expires` = time left
    /// (§10.3 step 8: "Each Contact value MUST feature an expires parameter").
    public func contactHeaderValue(at now: Instant) -> String {
        var c = contact
        c.bracketed = true
        c.parameters.set("expires", String(remainingSeconds(at: now)))
        return c.description
    }
}
