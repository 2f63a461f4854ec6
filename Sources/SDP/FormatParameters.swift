/// `a=fmtp:<format> <format specific parameters>` (RFC 4566 §6). The parameters are kept as text;
/// `parameters` splits the common `name=value;name=value` form.
public struct FormatParameters: Hashable, Sendable {
    public var format: String
    public var text: String

    public init(format: String, text: String) {
        self.format = format
        self.text = text
    }

    /// Parses an attribute named `fmtp`; `nil` for any other attribute or a malformed value.
    public init?(attribute: Attribute) {
        guard attribute.name == "fmtp", let value = attribute.value else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard let first = parts.first, isToken(first) else { return nil }
        self.init(format: String(first), text: parts.count == 2 ? String(parts[1]) : "")
    }

    public var attribute: Attribute { Attribute("fmtp", text.isEmpty ? format : "\(format) \(text)") }

    /// `name=value` pairs separated by `;` (names lower-cased, values as written; a bare name gets "").
    public var parameters: [(name: String, value: String)] {
        text.split(separator: ";").compactMap { item in
            let trimmed = item.drop(while: { $0 == " " })
            guard !trimmed.isEmpty else { return nil }
            if let eq = trimmed.firstIndex(of: "=") {
                return (String(trimmed[..<eq]).lowercased(), String(trimmed[trimmed.index(after: eq)...]))
            }
            return (String(trimmed).lowercased(), "")
        }
    }
}
