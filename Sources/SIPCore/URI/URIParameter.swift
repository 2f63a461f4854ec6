/// One `;name[=value]` parameter of a URI or of a header value, or one `name=value` URI header.
///
/// Names and values are kept as written (escapes not decoded), so serializing gives the same text.
public struct Parameter: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    /// nil for a parameter written without `=` (e.g. `;lr`).
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    public var description: String { value.map { "\(name)=\($0)" } ?? name }
}

extension Array where Element == Parameter {
    /// The parameter named `name` (case-insensitive, RFC 3261 §19.1.4 and §7.3.1): `.some(nil)` when
    /// present without a value, `nil` when absent.
    public func parameter(_ name: String) -> String?? {
        for p in self where p.name.asciiCaseInsensitiveEquals(name) { return .some(p.value) }
        return .none
    }

    /// Whether a parameter named `name` is present.
    public func has(_ name: String) -> Bool { contains { $0.name.asciiCaseInsensitiveEquals(name) } }

    /// Sets (replacing) or adds a parameter.
    public mutating func set(_ name: String, _ value: String?) {
        if let i = firstIndex(where: { $0.name.asciiCaseInsensitiveEquals(name) }) {
            self[i].value = value
        } else {
            append(Parameter(name, value))
        }
    }

    /// Removes every parameter named `name`.
    public mutating func remove(_ name: String) { removeAll { $0.name.asciiCaseInsensitiveEquals(name) } }

    /// `;a=b;c` text.
    var serialized: String {
        var s = ""
        for p in self {
            s += ";"
            s += p.description
        }
        return s
    }
}
