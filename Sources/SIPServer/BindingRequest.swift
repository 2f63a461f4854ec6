import SIPCore

/// What the location store needs from a REGISTER (RFC 3261 §10.3 steps 5–7), extracted once.
public struct BindingRequest: Sendable, Equatable {
    /// The Contact header(s).
    public enum Contacts: Sendable, Equatable {
        /// No Contact: a query for the current bindings (§10.2.3).
        case query
        /// `Contact: *` (§10.2.2).
        case wildcard
        case addresses([NameAddress])
    }

    public var aor: AddressOfRecord
    public var contacts: Contacts
    /// The Expires header, nil when absent.
    public var expires: UInt32?
    public var callID: String
    public var cseq: UInt32
    /// Path values in order (RFC 3327).
    public var path: [NameAddress]
    public var source: RegistrationSource?
    /// Whether the contacts are reached through `source` (see `Binding.reachThroughSource`).
    public var sourceIsFlow: Bool

    public init(aor: AddressOfRecord, contacts: Contacts, expires: UInt32? = nil, callID: String, cseq: UInt32,
                path: [NameAddress] = [], source: RegistrationSource? = nil, sourceIsFlow: Bool = false) {
        self.aor = aor
        self.contacts = contacts
        self.expires = expires
        self.callID = callID
        self.cseq = cseq
        self.path = path
        self.source = source
        self.sourceIsFlow = sourceIsFlow
    }

    /// Extracts the binding request of a REGISTER: the AOR from To (§10.3 step 5), Call-ID, CSeq,
    /// Contact, Expires and Path.
    public init(register request: SIPMessage, source: RegistrationSource?) throws(LocationStoreError) {
        func malformed(_ e: SIPParseError) -> LocationStoreError {
            LocationStoreError(.malformed, e.header.map { "Malformed \($0): \(e.message)" } ?? e.message)
        }
        let to: NameAddress
        let contactValue: ContactValue?
        do throws(SIPParseError) {
            to = try request.to()
            callID = try request.callID()
            cseq = try request.cseq().sequence
            expires = try request.expires()
            path = try request.path()
            contactValue = try request.contact()
        } catch {
            throw malformed(error)
        }
        guard let aor = AddressOfRecord(to.uri) else {
            throw LocationStoreError(.malformed, "To of a REGISTER must be a SIP or SIPS address-of-record")
        }
        self.aor = aor
        switch contactValue {
        case nil: contacts = .query
        case .wildcard: contacts = .wildcard
        case .addresses(let list):
            for c in list {
                if let raw = c.parameters.parameter("reg-id"), raw.flatMap({ UInt32($0) }) == nil {
                    throw LocationStoreError(.malformed, "Malformed Contact: reg-id must be a number")
                }
            }
            contacts = .addresses(list)
        }
        self.source = source
        sourceIsFlow = false
        if let source {
            // NAT: the sender's own idea of its address (Via sent-by, §18.1.1) is not where the packet
            // came from. Outbound (RFC 5626 §5.2): a reg-id asks for the flow to be used.
            var natSeen = false
            if let via = try? request.topVia() {
                let defaultPort: UInt16 = via.transport.uppercased() == "TLS" ? 5061 : 5060
                natSeen = via.host.bare.lowercased() != source.host.lowercased() || (via.port ?? defaultPort) != source.port
            }
            var outbound = false
            if case .addresses(let list) = contacts { outbound = list.contains { $0.parameters.has("reg-id") } }
            sourceIsFlow = natSeen || outbound
        }
    }
}
