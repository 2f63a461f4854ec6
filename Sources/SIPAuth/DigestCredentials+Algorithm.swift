import SIPCore

extension DigestCredentials {
    /// The algorithm named by the credentials (absent means MD5), nil when unknown.
    public var digestAlgorithm: DigestAlgorithm? { DigestAlgorithm(parameter: algorithm) }

    /// The qop used, nil when absent or unknown.
    public var digestQop: DigestQop? { qop.flatMap(DigestQop.init(token:)) }
}
