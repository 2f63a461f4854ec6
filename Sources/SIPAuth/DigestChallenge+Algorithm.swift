import SIPCore

extension DigestChallenge {
    /// The algorithm named by the challenge (absent means MD5), nil when unknown.
    public var digestAlgorithm: DigestAlgorithm? { DigestAlgorithm(parameter: algorithm) }

    /// The known qop options offered.
    public var digestQopOptions: [DigestQop] { qopOptions.compactMap(DigestQop.init(token:)) }
}
