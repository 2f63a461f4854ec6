/// Typed views of session-level attributes.
extension SessionDescription {
    /// The session-level direction attribute, the default for every media section (RFC 3264 §5.1).
    public var direction: MediaDirection? {
        get { directionAttribute(in: attributes) }
        set {
            attributes.removeAll { $0.value == nil && MediaDirection(rawValue: $0.name) != nil }
            if let newValue { attributes.append(newValue.attribute) }
        }
    }

    /// The values of every session-level attribute called `name`, in order.
    public func attributeValues(_ name: String) -> [String] {
        attributes.compactMap { $0.name == name ? ($0.value ?? "") : nil }
    }
}
