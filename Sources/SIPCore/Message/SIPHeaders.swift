/// The header fields of a message, in order, as they were received.
///
/// Parsed fields are not copied out of the message: each is a few offsets into the octets the message
/// was parsed from, so parsing costs one array of small records whatever the number of headers. Values
/// are turned into text, and typed views (`Via`, `NameAddress`, …) are parsed, only when asked for.
/// Fields that were never touched serialize byte for byte as received (unknown headers included), which
/// is what a proxy needs to forward faithfully (RFC 3261 §16.6).
public struct SIPHeaders: Sendable {

    struct Entry: Sendable {
        /// Known-name id (0 for an extension header).
        var id: UInt8
        /// Offset of the name in `source`, or -1 for a field added after parsing.
        var lineStart: Int32
        var nameEnd: Int32
        var valueStart: Int32
        var valueEnd: Int32
        /// Index into `added` when `lineStart == -1`.
        var addedIndex: Int32
        /// Whether the value contains a fold (CR or LF), which text views replace with a space.
        var folded: Bool
    }

    var source: [UInt8]
    var entries: [Entry]
    var added: [HeaderField]

    /// An empty header section.
    public init() {
        source = []
        entries = []
        added = []
    }

    /// Header fields from text, in order.
    public init(_ fields: [(HeaderName, String)]) {
        self.init()
        for (name, value) in fields { append(name, value) }
    }


    init(source: [UInt8], entries: [Entry]) {
        self.source = source
        self.entries = entries
        self.added = []
    }

    /// Number of header fields (lines after unfolding; a line with several comma-separated values
    /// counts once).
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    // MARK: Reading

    /// The field at `index` as text.
    public subscript(index: Int) -> HeaderField {
        let e = entries[index]
        if e.lineStart < 0 { return added[Int(e.addedIndex)] }
        let name = String(bytes: source[Int(e.lineStart)..<Int(e.nameEnd)])
        let known = e.id != 0 ? HeaderName.knownNames[Int(e.id) - 1] : HeaderName(id: 0, canonical: name)
        return HeaderField(name: known, rawName: name, value: valueText(e))
    }

    /// The name of the field at `index`.
    public func name(at index: Int) -> HeaderName {
        let e = entries[index]
        if e.id != 0 { return HeaderName.knownNames[Int(e.id) - 1] }
        if e.lineStart < 0 { return added[Int(e.addedIndex)].name }
        return HeaderName(id: 0, canonical: String(bytes: source[Int(e.lineStart)..<Int(e.nameEnd)]))
    }

    /// The value of the field at `index` (folds replaced by a space).
    public func value(at index: Int) -> String { valueText(entries[index]) }

    /// The value octets of the field at `index`, folds included, without copying.
    public func valueBytes(at index: Int) -> ArraySlice<UInt8> {
        let e = entries[index]
        if e.lineStart < 0 { return Array(added[Int(e.addedIndex)].value.utf8)[...] }
        return source[Int(e.valueStart)..<Int(e.valueEnd)]
    }

    /// Indices of the fields named `name`, in order.
    public func indices(of name: HeaderName) -> [Int] {
        var result: [Int] = []
        for i in entries.indices where matches(entries[i], name) { result.append(i) }
        return result
    }

    /// Index of the first field named `name`.
    public func firstIndex(of name: HeaderName) -> Int? {
        entries.indices.first { matches(entries[$0], name) }
    }

    public func contains(_ name: HeaderName) -> Bool { firstIndex(of: name) != nil }

    /// Number of fields (lines) named `name`.
    public func count(of name: HeaderName) -> Int {
        var n = 0
        for e in entries where matches(e, name) { n += 1 }
        return n
    }

    /// The value of the first field named `name`.
    public subscript(name: HeaderName) -> String? { firstIndex(of: name).map { value(at: $0) } }

    /// The values of every field named `name`, one per line (not split at commas).
    public func values(_ name: HeaderName) -> [String] { indices(of: name).map { value(at: $0) } }

    /// The values of every field named `name`, split at the commas that separate list elements
    /// (RFC 3261 §7.3.1), across lines, in order. Commas inside quoted strings and `<…>` do not split.
    /// Only meaningful for headers whose grammar is a comma-separated list.
    public func listValues(_ name: HeaderName) -> [String] {
        var result: [String] = []
        for i in indices(of: name) {
            let bytes = valueBytes(at: i)
            for r in ListSplitter.split(bytes) { result.append(Self.unfold(bytes[r])) }
        }
        return result
    }

    /// Every field as text, in order.
    public var fields: [HeaderField] { entries.indices.map { self[$0] } }

    // MARK: Writing

    /// Adds a field after the last one.
    public mutating func append(_ name: HeaderName, _ value: String) {
        entries.append(addedEntry(name, value))
    }

    /// Inserts a field at `index` (0 = first), e.g. a proxy's own Via (RFC 3261 §16.6 step 8).
    public mutating func insert(_ name: HeaderName, _ value: String, at index: Int) {
        entries.insert(addedEntry(name, value), at: index)
    }

    /// Inserts a field before the first field of the same name, or at the top if there is none.
    public mutating func prepend(_ name: HeaderName, _ value: String) {
        insert(name, value, at: firstIndex(of: name) ?? 0)
    }

    /// Removes the field at `index`.
    public mutating func remove(at index: Int) { entries.remove(at: index) }

    /// Removes every field named `name`; returns how many were removed.
    @discardableResult
    public mutating func removeAll(_ name: HeaderName) -> Int {
        let before = entries.count
        let keep = entries.filter { !matches($0, name) }
        entries = keep
        return before - entries.count
    }

    /// Removes the first list element of `name` (RFC 3261 §7.3.1): the whole field when it holds one
    /// value, else that value from a comma-joined field. A proxy taking its Via off a response (§16.7
    /// step 3) or its own Route off a request (§16.4). False when there is no such field.
    @discardableResult
    public mutating func removeFirstListValue(_ name: HeaderName) -> Bool {
        guard let i = firstIndex(of: name) else { return false }
        removeListElement(fieldIndex: i, first: true)
        return true
    }

    /// Removes the last list element of `name` (the last Route, for a strict router's Request-URI,
    /// §16.4). False when there is no such field.
    @discardableResult
    public mutating func removeLastListValue(_ name: HeaderName) -> Bool {
        guard let i = indices(of: name).last else { return false }
        removeListElement(fieldIndex: i, first: false)
        return true
    }

    private mutating func removeListElement(fieldIndex i: Int, first: Bool) {
        let bytes = valueBytes(at: i)
        let parts = ListSplitter.split(bytes)
        if parts.count <= 1 {
            remove(at: i)
            return
        }
        let kept = first ? parts.dropFirst() : parts.dropLast()
        replaceValue(at: i, with: kept.map { Self.unfold(bytes[$0]) }.joined(separator: ", "))
    }

    /// Replaces every field named `name` with one field holding `value`, placed where the first was
    /// (or appended).
    public mutating func set(_ name: HeaderName, _ value: String) {
        let position = firstIndex(of: name)
        removeAll(name)
        if let position { insert(name, value, at: Swift.min(position, entries.count)) } else { append(name, value) }
    }

    /// Replaces the value of the field at `index`, keeping its place and name.
    public mutating func replaceValue(at index: Int, with value: String) {
        let name = self.name(at: index)
        entries[index] = addedEntry(name, value)
    }

    // MARK: Internals

    
    func matches(_ e: Entry, _ name: HeaderName) -> Bool {
        if name.id != 0 { return e.id == name.id }
        if e.id != 0 { return false }
        if e.lineStart < 0 { return added[Int(e.addedIndex)].name == name }
        let raw = source[Int(e.lineStart)..<Int(e.nameEnd)]
        let other = name.canonical.utf8
        guard raw.count == other.count else { return false }
        return zip(raw, other).allSatisfy { ASCII.lower($0) == ASCII.lower($1) }
    }

    private mutating func addedEntry(_ name: HeaderName, _ value: String) -> Entry {
        added.append(HeaderField(name: name, value: value))
        return Entry(id: name.id, lineStart: -1, nameEnd: -1, valueStart: -1, valueEnd: -1,
                     addedIndex: Int32(added.count - 1), folded: false)
    }

    func valueText(_ e: Entry) -> String {
        if e.lineStart < 0 { return added[Int(e.addedIndex)].value }
        let bytes = source[Int(e.valueStart)..<Int(e.valueEnd)]
        return e.folded ? Self.unfold(bytes) : String(bytes: bytes)
    }

    /// Text of a value with every fold (CR/LF and the whitespace around it) replaced by one space and
    /// the ends trimmed.
    static func unfold(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        var end = bytes.endIndex
        while i < end, ASCII.isLWS(bytes[i]) { i += 1 }
        while end > i, ASCII.isLWS(bytes[end - 1]) { end -= 1 }
        while i < end {
            let c = bytes[i]
            if c == ASCII.cr || c == ASCII.lf {
                while out.last.map(ASCII.isWhitespace) == true { out.removeLast() }
                out.append(ASCII.sp)
                i += 1
                while i < end, ASCII.isLWS(bytes[i]) { i += 1 }
                continue
            }
            out.append(c)
            i += 1
        }
        return String(bytes: out)
    }

    /// Appends the header section (each field and its CRLF; not the empty line) to `out`.
    func serialize(into out: inout [UInt8]) {
        for e in entries {
            if e.lineStart >= 0 {
                out.append(contentsOf: source[Int(e.lineStart)..<Int(e.valueEnd)])
            } else {
                let f = added[Int(e.addedIndex)]
                out.append(contentsOf: f.rawName.utf8)
                out.append(ASCII.colon)
                out.append(ASCII.sp)
                out.append(contentsOf: f.value.utf8)
            }
            out.append(ASCII.cr)
            out.append(ASCII.lf)
        }
    }
}

extension SIPHeaders: Sequence {
    public func makeIterator() -> IndexingIterator<[HeaderField]> { fields.makeIterator() }
}

/// Splits a list header value at top-level commas (outside quoted strings, `<…>` and comments).
enum ListSplitter {
    static func split(_ bytes: ArraySlice<UInt8>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = bytes.startIndex
        var i = start
        var inQuote = false, angle = 0, paren = 0
        while i < bytes.endIndex {
            let c = bytes[i]
            if inQuote {
                if c == ASCII.backslash { i += 2; continue }
                if c == ASCII.quote { inQuote = false }
            } else {
                switch c {
                case ASCII.quote: inQuote = true
                case ASCII.lt: angle += 1
                case ASCII.gt: if angle > 0 { angle -= 1 }
                case 0x28: paren += 1
                case 0x29: if paren > 0 { paren -= 1 }
                case ASCII.comma where angle == 0 && paren == 0:
                    result.append(start..<i)
                    start = i + 1
                default: break
                }
            }
            i += 1
        }
        result.append(start..<bytes.endIndex)
        return result
    }
}
