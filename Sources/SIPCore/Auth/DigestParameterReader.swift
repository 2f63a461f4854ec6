/// Takes the known Digest parameters out of a scanned parameter list; what remains are the
/// extension parameters, kept in their original order (RFC 7616 §3.3, §3.4: unknown parameters
/// are ignored by the recipient but forwarded unchanged).
struct DigestParameterReader {
    private var remaining: [AuthHeaderScanner.Parameter]
    /// Offset to report for a missing parameter (the end of the value).
    let endOffset: Int

    init(_ parameters: [AuthHeaderScanner.Parameter], endOffset: Int) {
        self.remaining = parameters
        self.endOffset = endOffset
    }

    /// Removes and returns the parameter named `name` (lower-case), if present.
    mutating func take(_ name: String) -> AuthHeaderScanner.Parameter? {
        guard let i = remaining.firstIndex(where: { $0.lowercasedName == name }) else { return nil }
        return remaining.remove(at: i)
    }

    /// Removes and returns the value of `name`, or throws `missingParameter`.
    mutating func require(_ name: String, in header: String) throws(AuthHeaderError) -> String {
        guard let p = take(name) else {
            throw AuthHeaderError(code: .missingParameter, message: "\(header) lacks the '\(name)' parameter", offset: endOffset)
        }
        return p.parameter.value
    }

    /// `true` when the value is `true` in any case (RFC 7616 §3.3: anything else means false).
    mutating func flag(_ name: String) -> Bool {
        guard let p = take(name) else { return false }
        return AuthSyntax.lowercased(p.parameter.value) == "true"
    }

    /// The parameters not taken.
    var extensions: [AuthParameter] { remaining.map(\.parameter) }
}
