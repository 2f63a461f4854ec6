/// Why the location store refused a REGISTER's binding updates (RFC 3261 §10.3 steps 6–7). None of
/// the updates of a refused request are applied: "binding updates MUST be committed … if and only
/// if all binding updates and additions succeed".
public struct LocationStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// A header the registrar needs is malformed (To, Call-ID, CSeq, Contact, Expires, Path,
        /// reg-id): 400.
        public static let malformed = Code("malformed")
        /// `Contact: *` with an expiration other than zero, or with other contacts (§10.3 step 6): 400.
        public static let wildcardMisuse = Code("wildcard-misuse")
        /// A non-zero expiration below the minimum (§10.3 step 7): 423 Interval Too Brief with
        /// Min-Expires.
        public static let intervalTooBrief = Code("interval-too-brief")
        /// Same Call-ID as a binding and a CSeq not higher (§10.3 steps 6 and 7: "the update MUST
        /// be aborted and the request fails"): 500, the status §10.3 gives a request whose updates
        /// cannot all be committed.
        public static let outOfOrder = Code("out-of-order")
        /// More bindings for the AOR than `maxContactsPerAOR`: 503, as Kamailio's registrar answers
        /// when `max_contacts` is exceeded ("Too many registered contacts").
        public static let tooManyContacts = Code("too-many-contacts")
        /// The store holds `maxBindings` already: 503.
        public static let storeFull = Code("store-full")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// For `intervalTooBrief`: the Min-Expires to send.
    public var minExpires: UInt32?

    public init(_ code: Code, _ message: String, minExpires: UInt32? = nil) {
        self.code = code
        self.message = message
        self.minExpires = minExpires
    }

    /// The response status a registrar sends for this error.
    public var status: Int {
        switch code {
        case .intervalTooBrief: return 423
        case .outOfOrder: return 500
        case .tooManyContacts, .storeFull: return 503
        default: return 400
        }
    }

    public var description: String { "\(code): \(message)" }
}
