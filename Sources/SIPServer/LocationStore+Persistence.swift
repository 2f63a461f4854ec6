#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPCore
import SIPTransaction

/// Why a saved location store could not be read or written.
public struct LocationStoreFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// Reading or writing the file failed (`fileError` says how).
        public static let io = Code("io")
        /// The file is not a location store this version can read (truncated, edited, another format).
        public static let corrupt = Code("corrupt")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// The underlying file error for `io`.
    public var fileError: AtomicFileError?

    public init(_ code: Code, _ message: String, fileError: AtomicFileError? = nil) {
        self.code = code
        self.message = message
        self.fileError = fileError
    }

    public var description: String { "\(code): \(message)" }
}

/// Saving and loading the location store so that registrations survive a restart (issue 5).
///
/// The file is JSON, written atomically (`AtomicFile`). Expiry instants are monotonic in memory
/// but the monotonic clock restarts at boot, so the file holds wall-clock times (milliseconds since
/// the Unix epoch) and loading converts them back with both clocks' current readings:
///
/// ```json
/// { "format": "dialtone-location-store", "version": 1, "saved-ms": 1700000000000,
///   "bindings": [ { "aor": "sip:101@voice.lan", "contact": "<sip:101@192.168.1.20:5060>;q=0.5",
///                   "expires-ms": 17000003600000, "updated-ms": 1700000000000,
///                   "call-id": "a84b4c76e66710", "cseq": 7, "path": ["<sip:edge.lan;lr>"],
///                   "source": { "transport": "UDP", "host": "192.168.1.20", "port": 5060 }, "flow": true } ] }
/// (`flow`: present when the proxy reaches the contact through `source`, see `Binding`.)
/// ```
extension LocationStore {
    static let fileFormat = "dialtone-location-store"
    static let fileVersion = 1

    /// The largest file `load` reads: generous for `maxBindings` bindings of a few hundred bytes each.
    static func maxFileBytes(for limits: Limits) -> Int {
        min(256 << 20, 65_536 + limits.maxBindings * 4096)
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s &* 1000 &+ atto / 1_000_000_000_000_000
    }

    /// The wall-clock time (ms since the epoch) of monotonic `instant`, given both clocks at `now`.
    static func wallMilliseconds(of instant: Instant, now: Instant, wallClock: Duration) -> Int64 {
        milliseconds(wallClock) &+ (instant.nanoseconds &- now.nanoseconds) / 1_000_000
    }

    /// The file contents for the unexpired bindings at `now`.
    ///
    /// - Parameter wallClock: the wall clock at `now`, as time since the Unix epoch.
    public func encoded(now: Instant, wallClock: Duration) -> [UInt8] {
        var items: [JSONValue] = []
        for (aor, bindings) in allBindings(now: now) {
            for b in bindings {
                var members: [(key: String, value: JSONValue)] = [
                    ("aor", .string(aor.text)),
                    ("contact", .string(b.contact.description)),
                    ("expires-ms", .number(Double(LocationStore.wallMilliseconds(of: b.expires, now: now, wallClock: wallClock)))),
                    ("updated-ms", .number(Double(LocationStore.wallMilliseconds(of: b.updated, now: now, wallClock: wallClock)))),
                    ("call-id", .string(b.callID)),
                    ("cseq", .number(Double(b.cseq))),
                    ("path", .array(b.path.map { .string($0.description) })),
                ]
                if let s = b.source {
                    members.append(("source", .object([("transport", .string(s.transport)), ("host", .string(s.host)),
                                                       ("port", .number(Double(s.port)))])))
                    if b.reachThroughSource { members.append(("flow", .bool(true))) }
                }
                items.append(.object(members))
            }
        }
        let root: JSONValue = .object([
            ("format", .string(LocationStore.fileFormat)),
            ("version", .number(Double(LocationStore.fileVersion))),
            ("saved-ms", .number(Double(LocationStore.milliseconds(wallClock)))),
            ("bindings", .array(items)),
        ])
        return root.serialized(indent: 1)
    }

    /// A store rebuilt from `encoded` output. Bindings whose wall-clock expiry has passed are
    /// dropped; remaining lifetimes are capped at `limits.maxExpires` (a wall clock set back must
    /// not make a binding live longer than a registration could); the caps apply.
    public static func decoded(_ bytes: [UInt8], limits: Limits, now: Instant, wallClock: Duration) throws(LocationStoreFileError) -> LocationStore {
        func corrupt(_ why: String) -> LocationStoreFileError { LocationStoreFileError(.corrupt, why) }
        guard let root = JSONValue.parse(bytes) else { throw corrupt("not valid JSON (truncated?)") }
        guard root["format"]?.stringValue == fileFormat else { throw corrupt("not a location store file") }
        guard root["version"]?.intValue == fileVersion else { throw corrupt("unsupported version") }
        guard case .array(let items)? = root["bindings"] else { throw corrupt("bindings missing") }
        var store = LocationStore(limits: limits)
        let wallNow = milliseconds(wallClock)
        let maxMs = Int64(limits.maxExpires) * 1000
        for (i, item) in items.enumerated() {
            func bad(_ what: String) -> LocationStoreFileError { corrupt("bindings[\(i)]: \(what)") }
            guard let aorText = item["aor"]?.stringValue, let aor = AddressOfRecord(text: aorText) else { throw bad("bad aor") }
            guard let contactText = item["contact"]?.stringValue,
                  let contact = try? NameAddress(parsing: contactText, header: "Contact") else { throw bad("bad contact") }
            guard let expiresMs = item["expires-ms"]?.intValue, let updatedMs = item["updated-ms"]?.intValue else {
                throw bad("bad expires-ms or updated-ms")
            }
            guard let callID = item["call-id"]?.stringValue, !callID.isEmpty else { throw bad("bad call-id") }
            guard let cseqValue = item["cseq"]?.intValue, let cseq = UInt32(exactly: cseqValue) else { throw bad("bad cseq") }
            guard case .array(let pathItems)? = item["path"] else { throw bad("bad path") }
            var path: [NameAddress] = []
            for p in pathItems {
                guard let text = p.stringValue, let hop = try? NameAddress(parsing: text, header: "Path") else { throw bad("bad path entry") }
                path.append(hop)
            }
            var source: RegistrationSource?
            if let s = item["source"] {
                guard let transport = s["transport"]?.stringValue, let host = s["host"]?.stringValue,
                      let portValue = s["port"]?.intValue, let port = UInt16(exactly: portValue) else { throw bad("bad source") }
                source = RegistrationSource(transport: transport, host: host, port: port)
            }
            let remaining = min(Int64(expiresMs) - wallNow, maxMs)
            guard remaining > 0 else { continue }
            let age = max(0, min(wallNow - Int64(updatedMs), Int64(limits.maxExpires) * 1000))
            let binding = Binding(contact: contact, expires: now + .milliseconds(remaining), callID: callID, cseq: cseq,
                                  path: path, source: source, reachThroughSource: item["flow"] == .bool(true),
                                  updated: now + .milliseconds(-age))
            _ = store.restore(binding, for: aor)
        }
        return store
    }

    /// Saves the unexpired bindings to `path` atomically (temp file, fsync, rename, fsync of the
    /// directory): after a crash the file holds the previous or the new contents, never a mix.
    public func save(to path: String, now: Instant, wallClock: Duration) throws(LocationStoreFileError) {
        do throws(AtomicFileError) {
            try AtomicFile.write(encoded(now: now, wallClock: wallClock), to: path, permissions: 0o600)
        } catch {
            throw LocationStoreFileError(.io, "cannot save the location store: \(error)", fileError: error)
        }
    }

    /// Loads the store saved at `path`; a missing file gives an empty store.
    ///
    /// - Throws: `corrupt` when the file cannot be understood (keep it aside and start empty, see
    ///   `loadRecovering`), `io` when it cannot be read.
    public static func load(from path: String, limits: Limits, now: Instant, wallClock: Duration) throws(LocationStoreFileError) -> LocationStore {
        let bytes: [UInt8]?
        do throws(AtomicFileError) {
            bytes = try AtomicFile.read(path, maxBytes: maxFileBytes(for: limits))
        } catch {
            if error.code == .tooLarge {
                throw LocationStoreFileError(.corrupt, "\(path): \(error.message)", fileError: error)
            }
            throw LocationStoreFileError(.io, "cannot read the location store: \(error)", fileError: error)
        }
        guard let bytes else { return LocationStore(limits: limits) }
        do throws(LocationStoreFileError) {
            return try decoded(bytes, limits: limits, now: now, wallClock: wallClock)
        } catch {
            throw LocationStoreFileError(.corrupt, "\(path): \(error.message)")
        }
    }

    /// `load`, but never fails: a corrupt file is renamed to `<path>.corrupt` (kept for a look,
    /// replacing an older one) and the store starts empty; an unreadable file also gives an empty
    /// store. The error, if any, is returned for the log.
    public static func loadRecovering(from path: String, limits: Limits, now: Instant, wallClock: Duration)
        -> (store: LocationStore, problem: LocationStoreFileError?) {
        do throws(LocationStoreFileError) {
            return (try load(from: path, limits: limits, now: now, wallClock: wallClock), nil)
        } catch {
            var problem = error
            if error.code == .corrupt {
                if rename(path, path + ".corrupt") == 0 {
                    problem.message += " (kept as \(path).corrupt; starting with no bindings)"
                } else {
                    problem.message += " (could not keep it aside: \(String(cString: strerror(errno))); starting with no bindings)"
                }
            }
            return (LocationStore(limits: limits), problem)
        }
    }
}
