extension DigestServer {
    /// What a `DigestServer` offers and enforces.
    public struct Configuration: Hashable, Sendable {
        /// The protection space (RFC 3261 §22.1: typically the domain name of the proxy or registrar).
        public var realm: String
        /// Algorithms offered; challenges list them strongest first regardless of this order
        /// (RFC 8760 §2: one header per algorithm, most preferred first).
        public var algorithms: [DigestAlgorithm]
        /// qop values offered; empty offers the legacy qop-less form only (RFC 2069), which has no
        /// nonce count, so each nonce is then accepted once.
        public var qopOptions: [DigestQop]
        /// How long a nonce is accepted after it was issued; after that, a correct digest gets `.stale`.
        public var nonceLifetime: Duration
        /// At most this many nonces' nonce counts are remembered; the oldest are evicted, and a
        /// nonce issued no later than an evicted one is then treated as stale.
        public var maxTrackedNonces: Int
        /// Ask clients to hash their user names (RFC 7616 §3.4.4).
        public var userhash: Bool
        /// `opaque` to send and require back.
        public var opaque: String?
        /// `domain` URIs to send.
        public var domain: [String]

        public init(
            realm: String,
            algorithms: [DigestAlgorithm] = [.sha256, .md5],
            qopOptions: [DigestQop] = [.auth],
            nonceLifetime: Duration = .seconds(300),
            maxTrackedNonces: Int = 1024,
            userhash: Bool = false,
            opaque: String? = nil,
            domain: [String] = []
        ) {
            precondition(!algorithms.isEmpty, "a Digest server must offer at least one algorithm")
            precondition(maxTrackedNonces > 0, "maxTrackedNonces must be positive")
            self.realm = realm
            self.algorithms = algorithms
            self.qopOptions = qopOptions
            self.nonceLifetime = nonceLifetime
            self.maxTrackedNonces = maxTrackedNonces
            self.userhash = userhash
            self.opaque = opaque
            self.domain = domain
        }
    }
}
