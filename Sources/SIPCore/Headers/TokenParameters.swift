/// A header whose value is `token *( SEMI generic-param )`: Event (RFC 6665 §8.2.1, `id`),
/// Subscription-State (RFC 6665 §8.2.3: `expires`, `reason`, `retry-after`), Reason (RFC 3326:
/// `protocol ;cause= ;text=`), Session-Expires and Min-SE (RFC 4028: delta-seconds `;refresher=`),
/// Replaces (RFC 3891: `callid ;to-tag= ;from-tag= ;early-only`), Privacy (RFC 3323, values
/// separated by `;`).
public struct TokenParameters: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    public var parameters: [Parameter]

    public init(_ value: String, parameters: [Parameter] = []) {
        self.value = value
        self.parameters = parameters
    }

    public var description: String { value + parameters.serialized }

    /// The unquoted value of a parameter.
    public func parameter(_ name: String) -> String? {
        parameters.parameter(name).flatMap { $0 }.map(\.unquoted)
    }

    /// Parses `value *(; params)` where `value` is made of `valueChars`.
    static func parse(_ bytes: ArraySlice<UInt8>, header: String, valueChars: ByteClass, limits: SIPLimits) throws(SIPParseError) -> TokenParameters {
        var sc = ValueScanner(bytes, header: header)
        guard let v = sc.run(valueChars) else { throw sc.error("expected a value") }
        let parameters = try sc.parameters(limit: limits.maxParameters)
        try sc.expectEnd()
        return TokenParameters(String(bytes: v), parameters: parameters)
    }
}

/// Parsers for the simple scalar and token-list headers.
enum ScalarHeaders {
    /// delta-seconds (RFC 3261 §25): 1*DIGIT fitting 32 bits.
    static func deltaSeconds(_ bytes: ArraySlice<UInt8>, header: String) throws(SIPParseError) -> UInt32 {
        var sc = ValueScanner(bytes, header: header)
        let n = try sc.number("delta-seconds", max: UInt64(UInt32.max))
        try sc.expectEnd()
        return UInt32(n)
    }

    /// A comma-separated list of tokens (Supported may be empty, RFC 3261 §20.37).
    static func tokenList(_ bytes: ArraySlice<UInt8>, header: String, allowEmpty: Bool, limits: SIPLimits) throws(SIPParseError) -> [String] {
        if bytes.allSatisfy(ASCII.isLWS) {
            if allowEmpty { return [] }
            throw SIPParseError(.badHeaderValue, "empty value", header: header)
        }
        var result: [String] = []
        for element in try listElements(bytes, header: header, limits: limits) {
            var sc = ValueScanner(element, header: header)
            result.append(try sc.token("a token"))
            try sc.expectEnd()
        }
        return result
    }
}
