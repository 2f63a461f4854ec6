#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit
import SIPCore
import SIPServer
import SIPTransaction

@Suite struct LocationStorePersistenceTests {
    let limits = LocationStore.Limits(minExpires: 60, defaultExpires: 3600, maxExpires: 7200, maxContactsPerAOR: 5, maxBindings: 100)

    func populated(_ clock: ManualClock) throws -> LocationStore {
        var store = LocationStore(limits: limits)
        let text = registerText(contacts: ["<sip:101@192.168.1.20:5060;transport=udp>;q=0.8;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
                                           "<sip:101@192.168.1.21>;expires=600"],
                                expires: 3600, callID: "reg-a", cseq: 7, extra: ["Path: <sip:edge.lan;lr>"])
        let source = RegistrationSource(transport: "TCP", host: "198.51.100.7", port: 50_123)
        _ = try store.register(BindingRequest(register: request(text), source: source), now: clock.now).get()
        let other = registerText(user: "102", contacts: ["<sip:102@[2001:db8::5]:5062>"], expires: 120, callID: "reg-b", cseq: 1)
        _ = try store.register(BindingRequest(register: request(other), source: nil), now: clock.now).get()
        return store
    }

    func summary(_ store: LocationStore, at now: Instant) -> [String] {
        store.allBindings(now: now).flatMap { entry in
            entry.bindings.map { b in
                "\(entry.aor) \(b.contact) \(b.remainingSeconds(at: now)) \(b.callID) \(b.cseq) \(b.path.map(\.description)) \(b.source?.description ?? "-")"
            }
        }
    }

    @Test func saveAndLoadRoundTrip() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/location.json"
        let clock = ManualClock()
        let store = try populated(clock)
        try store.save(to: path, now: clock.now, wallClock: clock.wall)
        let loaded = try LocationStore.load(from: path, limits: limits, now: clock.now, wallClock: clock.wall)
        #expect(loaded.count == 3)
        #expect(summary(loaded, at: clock.now) == summary(store, at: clock.now))
        let bindings = loaded.lookup(AddressOfRecord(text: "sip:101@voice.lan")!, now: clock.now)
        // Without q counts as 1.0, so it comes first.
        #expect(bindings.map(\.q) == [nil, 0.8])
        let first = bindings.last
        #expect(first?.instanceID == "\"<urn:uuid:1>\"")
        #expect(first?.regID == 1)
        #expect(first?.q == 0.8)
    }

    @Test func restartAfterARebootUsesTheWallClock() throws {
        var clock = ManualClock()
        let store = try populated(clock)
        let saved = store.encoded(now: clock.now, wallClock: clock.wall)
        // Reboot: the monotonic clock starts near zero again, the wall clock went on 200 s.
        var rebooted = ManualClock(now: Instant(nanoseconds: 1_000_000_000), wall: clock.wall + .seconds(200))
        let loaded = try LocationStore.decoded(saved, limits: limits, now: rebooted.now, wallClock: rebooted.wall)
        let remaining = loaded.allBindings(now: rebooted.now).flatMap { $0.bindings.map { $0.remainingSeconds(at: rebooted.now) } }
        #expect(remaining.sorted() == [400, 3400])  // 120 s binding gone; 600 → 400; 3600 → 3400
        #expect(loaded.count == 2)
        // Expiry keeps running on the new monotonic clock.
        rebooted.advance(.seconds(400))
        #expect(loaded.allBindings(now: rebooted.now).flatMap(\.bindings).count == 1)
        // Nothing survives a reboot after every binding expired.
        clock.advance(.seconds(4000))
        let late = try LocationStore.decoded(saved, limits: limits, now: Instant(nanoseconds: 0), wallClock: clock.wall)
        #expect(late.count == 0)
    }

    @Test func aWallClockSetBackCannotStretchABinding() throws {
        let clock = ManualClock()
        let saved = try populated(clock).encoded(now: clock.now, wallClock: clock.wall)
        let loaded = try LocationStore.decoded(saved, limits: limits, now: clock.now, wallClock: clock.wall - .seconds(86_400))
        let remaining = loaded.allBindings(now: clock.now).flatMap { $0.bindings.map { $0.remainingSeconds(at: clock.now) } }
        #expect(remaining.allSatisfy { $0 <= limits.maxExpires })
        #expect(remaining.count == 3)
    }

    @Test func loadingRespectsTheCaps() throws {
        let clock = ManualClock()
        let saved = try populated(clock).encoded(now: clock.now, wallClock: clock.wall)
        let small = LocationStore.Limits(maxContactsPerAOR: 1, maxBindings: 100)
        let loaded = try LocationStore.decoded(saved, limits: small, now: clock.now, wallClock: clock.wall)
        #expect(loaded.count == 2)
    }

    @Test func aMissingFileIsAnEmptyStore() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        let store = try LocationStore.load(from: dir.path + "/none.json", limits: limits, now: clock.now, wallClock: clock.wall)
        #expect(store.count == 0)
    }

    @Test func corruptOrTruncatedFilesAreRejected() throws {
        let clock = ManualClock()
        let saved = try populated(clock).encoded(now: clock.now, wallClock: clock.wall)
        var cases: [[UInt8]] = [
            Array(saved.prefix(saved.count / 2)),
            Array(saved.dropLast(3)),
            [],
            Array("{}".utf8),
            Array(#"{"format":"dialtone-location-store","version":2,"bindings":[]}"#.utf8),
            Array(#"{"format":"dialtone-location-store","version":1,"bindings":[{"aor":"sip:a@b"}]}"#.utf8),
            [0xFF, 0xFE, 0x00],
        ]
        let text = String(decoding: saved, as: UTF8.self)
        cases.append(Array(text.replacing("\"cseq\": 7", with: "\"cseq\": -7").utf8))
        cases.append(Array(text.replacing("\"sip:102@", with: "\"tel:102@").utf8))
        for (i, bytes) in cases.enumerated() {
            do {
                _ = try LocationStore.decoded(bytes, limits: limits, now: clock.now, wallClock: clock.wall)
                Issue.record("case \(i) accepted")
            } catch {
                #expect(error.code == .corrupt)
            }
        }
    }

    @Test func loadRecoveringKeepsACorruptFileAsideAndStartsEmpty() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        let saved = try populated(clock).encoded(now: clock.now, wallClock: clock.wall)
        let path = try dir.write("location.json", Array(saved.prefix(40)))
        #expect(throws: LocationStoreFileError.self) {
            try LocationStore.load(from: path, limits: limits, now: clock.now, wallClock: clock.wall)
        }
        let (store, problem) = LocationStore.loadRecovering(from: path, limits: limits, now: clock.now, wallClock: clock.wall)
        #expect(store.count == 0)
        #expect(problem?.code == .corrupt)
        #expect(access(path, F_OK) != 0)
        #expect(try AtomicFile.read(path + ".corrupt", maxBytes: 1 << 20) == Array(saved.prefix(40)))
        // The next save writes a fresh file beside the kept copy.
        try store.save(to: path, now: clock.now, wallClock: clock.wall)
        #expect(try LocationStore.load(from: path, limits: limits, now: clock.now, wallClock: clock.wall).count == 0)
    }
}
