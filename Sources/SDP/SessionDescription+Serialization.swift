extension SessionDescription {
    /// The description as text, fields in RFC 4566 §5 order, every line ended with CRLF.
    public func serialized() -> String {
        var out = ""
        out.reserveCapacity(256 + media.count * 128)
        func line(_ type: String, _ value: String) {
            out += type
            out += "="
            out += value
            out += "\r\n"
        }
        line("v", String(version))
        line("o", "\(origin.username) \(origin.sessionID) \(origin.sessionVersion) \(origin.networkType) \(origin.addressType) \(origin.unicastAddress)")
        line("s", sessionName)
        if let information { line("i", information) }
        if let uri { line("u", uri) }
        for email in emails { line("e", email) }
        for phone in phones { line("p", phone) }
        if let connection { line("c", connection.fieldValue) }
        for bandwidth in bandwidths { line("b", "\(bandwidth.type):\(bandwidth.value)") }
        for timing in timings {
            line("t", "\(timing.start) \(timing.stop)")
            for repeatValue in timing.repeats { line("r", repeatValue) }
        }
        if let timeZones { line("z", timeZones) }
        if let encryptionKey { line("k", encryptionKey) }
        for attribute in attributes { line("a", attribute.text) }
        for m in media {
            var port = String(m.port)
            if let n = m.numberOfPorts { port += "/\(n)" }
            line("m", ([m.media, port, m.proto] + m.formats).joined(separator: " "))
            if let information = m.information { line("i", information) }
            for connection in m.connections { line("c", connection.fieldValue) }
            for bandwidth in m.bandwidths { line("b", "\(bandwidth.type):\(bandwidth.value)") }
            if let key = m.encryptionKey { line("k", key) }
            for attribute in m.attributes { line("a", attribute.text) }
        }
        return out
    }

    /// `serialized()` as UTF-8 bytes.
    public func serializedBytes() -> [UInt8] { Array(serialized().utf8) }
}

extension Connection {
    /// The text after `c=`.
    var fieldValue: String { "\(networkType) \(addressType) \(connectionAddressText)" }
}
