import SIPCore
import SIPTransaction
import Config

/// The location service (RFC 3261 §10, §10.3): bindings of addresses-of-record to contact
/// addresses, in memory, bounded, with expiry on the monotonic clock.
///
/// A pure value owned by the signalling thread: every call takes `now`; nothing reads a clock.
/// Updates follow §10.3 steps 6–8:
///
/// ```text
///  REGISTER ──▶ no Contact ─────────────────────────▶ query: current bindings
///          ├──▶ Contact: * ── Expires: 0? ── no ────▶ 400 (step 6)
///          │                      └─ yes ─ each binding: same Call-ID and CSeq not higher? ─▶ 500
///          │                                └─ else remove all
///          └──▶ contacts ── expires = contact param ▸ Expires header ▸ default (step 7)
///                          ├─ 0 < expires < min ─────────────────────▶ 423 + Min-Expires
///                          ├─ expires > max ── shortened to max
///                          ├─ binding found (same instance+reg-id, else equivalent URI)
///                          │     ├─ same Call-ID, CSeq not higher ──────▶ 500 (nothing applied)
///                          │     └─ else update, or remove when expires = 0
///                          └─ not found: add (unless expires = 0)
///                          then: more than maxContactsPerAOR ───────────▶ 503
///                                more than maxBindings in all ──────────▶ 503
/// ```
///
/// All of a request's updates are applied or none (§10.3: "committed … if and only if all binding
/// updates and additions succeed").
///
/// Lookups return unexpired bindings ordered by q (highest first; a contact without q counts as 1.0),
/// ties broken by the most recently refreshed first — the order a proxy forks in (§16.6).
public struct LocationStore: Sendable {
    /// Registration intervals and the memory bound.
    public struct Limits: Sendable, Equatable {
        public var minExpires: UInt32
        public var defaultExpires: UInt32
        public var maxExpires: UInt32
        public var maxContactsPerAOR: Int
        public var maxBindings: Int

        public init(minExpires: UInt32 = 60, defaultExpires: UInt32 = 3600, maxExpires: UInt32 = 7200,
                    maxContactsPerAOR: Int = 10, maxBindings: Int = 100_000) {
            precondition(minExpires <= defaultExpires && defaultExpires <= maxExpires, "min ≤ default ≤ max expires")
            precondition(maxContactsPerAOR >= 1 && maxBindings >= 1, "caps must be positive")
            self.minExpires = minExpires
            self.defaultExpires = defaultExpires
            self.maxExpires = maxExpires
            self.maxContactsPerAOR = maxContactsPerAOR
            self.maxBindings = maxBindings
        }

        /// From the validated `server.registrar` section.
        public init(_ r: ServerConfiguration.Registrar) {
            self.init(minExpires: UInt32(clamping: r.minExpires), defaultExpires: UInt32(clamping: r.defaultExpires),
                      maxExpires: UInt32(clamping: r.maxExpires), maxContactsPerAOR: r.maxContactsPerAOR,
                      maxBindings: r.maxBindings)
        }
    }

    public var limits: Limits
    private var records: [AddressOfRecord: [Binding]] = [:]
    /// Bindings held, expired ones not yet swept included.
    public private(set) var count = 0
    /// Increases with every change (for deciding when to save).
    public private(set) var revision: UInt64 = 0
    private var lastSweep: Instant?
    /// No binding held expires before this (a lower bound: refreshes may have moved the real earliest
    /// later). A sweep before it has nothing to do and returns at once, so the periodic sweep of a
    /// large store costs nothing until something can have expired.
    private var earliestExpiry: Instant?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The addresses-of-record with at least one binding held (expired or not), sorted.
    public var addressesOfRecord: [AddressOfRecord] { records.keys.sorted() }

    /// The unexpired bindings of `aor`, ordered by q (highest first), then most recent first.
    public func lookup(_ aor: AddressOfRecord, now: Instant) -> [Binding] {
        LocationStore.ordered((records[aor] ?? []).filter { $0.expires > now })
    }

    /// Every unexpired binding, by AOR (for persistence and diagnostics).
    public func allBindings(now: Instant) -> [(aor: AddressOfRecord, bindings: [Binding])] {
        addressesOfRecord.compactMap { aor in
            let live = lookup(aor, now: now)
            return live.isEmpty ? nil : (aor, live)
        }
    }

    static func ordered(_ bindings: [Binding]) -> [Binding] {
        bindings.sorted { a, b in
            if a.effectiveQThousandths != b.effectiveQThousandths { return a.effectiveQThousandths > b.effectiveQThousandths }
            if a.updated != b.updated { return a.updated > b.updated }
            return a.contact.description < b.contact.description
        }
    }

    /// Applies a REGISTER's binding updates (§10.3 steps 6–7) and returns the AOR's bindings
    /// afterwards (step 8), or the error that refused the request, leaving the store unchanged.
    public mutating func register(_ request: BindingRequest, now: Instant) -> Result<[Binding], LocationStoreError> {
        let held = records[request.aor] ?? []
        let current = held.filter { $0.expires > now }
        if request.contacts != .query, current.contains(where: { $0.callID == request.callID && $0.cseq == request.cseq }) {
            // The request that wrote these bindings, again: a retransmission (the registrar answers
            // statelessly, like Kamailio's save(), so there is no transaction to absorb it). It changes
            // nothing and gets the same answer (§10.3 step 7's CSeq rule still refuses lower CSeqs).
            return .success(LocationStore.ordered(current))
        }
        switch request.contacts {
        case .query:
            return .success(LocationStore.ordered(current))
        case .wildcard:
            // §10.3 step 6.
            guard request.expires == 0 else {
                return .failure(LocationStoreError(.wildcardMisuse, "Contact: * requires Expires: 0"))
            }
            if let b = current.first(where: { $0.callID == request.callID && request.cseq <= $0.cseq }) {
                return .failure(outOfOrder(b, request))
            }
            commit(request.aor, held: held.count, updated: [])
            return .success([])
        case .addresses(let contacts):
            // Bound the work: a request naming more contacts than could ever be held is refused
            // before comparing each with each.
            guard contacts.count <= limits.maxContactsPerAOR + current.count else {
                return .failure(LocationStoreError(.tooManyContacts,
                    "Too many registered contacts (\(contacts.count) in one REGISTER, at most \(limits.maxContactsPerAOR) per address-of-record)"))
            }
            var updated = current
            // Bindings written by this request: a later Contact of the same request may update them
            // again without the CSeq rule (it is the same request).
            var touched = Set<Int>()
            for contact in contacts {
                let expires: UInt32
                do throws(SIPParseError) {
                    expires = try contact.expires() ?? request.expires ?? limits.defaultExpires
                    _ = try contact.qValue()
                } catch {
                    return .failure(LocationStoreError(.malformed, "Malformed Contact: \(error.message)"))
                }
                if expires != 0 && expires < limits.minExpires {
                    return .failure(LocationStoreError(.intervalTooBrief,
                        "expiration \(expires) s is below the minimum \(limits.minExpires) s", minExpires: limits.minExpires))
                }
                let lifetime = min(expires, limits.maxExpires)
                let binding = Binding(contact: contact, expires: now + .seconds(Int64(lifetime)), callID: request.callID,
                                      cseq: request.cseq, path: request.path, source: request.source,
                                      reachThroughSource: request.sourceIsFlow, updated: now)
                if let i = LocationStore.match(binding, in: updated) {
                    let existing = updated[i]
                    if !touched.contains(i), existing.callID == request.callID, request.cseq <= existing.cseq {
                        return .failure(outOfOrder(existing, request))
                    }
                    if lifetime == 0 {
                        updated.remove(at: i)
                        touched = Set(touched.compactMap { $0 == i ? nil : ($0 > i ? $0 - 1 : $0) })
                    } else {
                        updated[i] = binding
                        touched.insert(i)
                    }
                } else if lifetime != 0 {
                    updated.append(binding)
                    touched.insert(updated.count - 1)
                }
            }
            if updated.count > limits.maxContactsPerAOR {
                return .failure(LocationStoreError(.tooManyContacts,
                    "Too many registered contacts (\(updated.count), at most \(limits.maxContactsPerAOR) per address-of-record)"))
            }
            if count - held.count + updated.count > limits.maxBindings {
                // Expired bindings still held may make room; sweep at most once per second of `now`.
                if lastSweep.map({ now.duration(since: $0) >= .seconds(1) }) ?? true {
                    _ = sweep(now: now)
                }
                let heldNow = records[request.aor]?.count ?? 0
                if count - heldNow + updated.count > limits.maxBindings {
                    return .failure(LocationStoreError(.storeFull, "the location store holds its maximum of \(limits.maxBindings) bindings"))
                }
                commit(request.aor, held: heldNow, updated: updated)
            } else {
                commit(request.aor, held: held.count, updated: updated)
            }
            return .success(LocationStore.ordered(updated))
        }
    }

    private func outOfOrder(_ b: Binding, _ request: BindingRequest) -> LocationStoreError {
        LocationStoreError(.outOfOrder,
            "CSeq \(request.cseq) is not higher than \(b.cseq), already seen with this Call-ID for \(b.contact.uri)")
    }

    private mutating func commit(_ aor: AddressOfRecord, held: Int, updated: [Binding]) {
        records[aor] = updated.isEmpty ? nil : updated
        count += updated.count - held
        revision &+= 1
        for b in updated where earliestExpiry.map({ b.expires < $0 }) ?? true { earliestExpiry = b.expires }
    }

    /// The binding of `list` that `binding` updates: the same `+sip.instance` and `reg-id` when the
    /// new contact has an instance (RFC 5626 §6, RFC 5627 §6: the instance identifies the device
    /// whatever its contact address), else a binding without instance whose URI is equivalent
    /// (RFC 3261 §10.3 step 7, comparison per §19.1.4).
    static func match(_ binding: Binding, in list: [Binding]) -> Int? {
        if let instance = binding.instanceID {
            let regID = binding.regID
            return list.firstIndex { $0.instanceID == instance && $0.regID == regID }
        }
        return list.firstIndex { $0.instanceID == nil && equivalent($0.contact.uri, binding.contact.uri) }
    }

    static func equivalent(_ a: URI, _ b: URI) -> Bool {
        switch (a, b) {
        case (.sip(let x), .sip(let y)): return x.isEquivalent(to: y)
        default: return a.description == b.description
        }
    }

    /// The current bindings of the request's AOR when one of them was written by this very request
    /// (same Call-ID and CSeq): the request is a retransmission. Nil otherwise.
    public func retransmission(of request: BindingRequest, now: Instant) -> [Binding]? {
        guard request.contacts != .query, let held = records[request.aor] else { return nil }
        let current = held.filter { $0.expires > now }
        guard current.contains(where: { $0.callID == request.callID && $0.cseq == request.cseq }) else { return nil }
        return LocationStore.ordered(current)
    }

    /// Removes expired bindings; returns how many were removed.
    @discardableResult
    public mutating func sweep(now: Instant) -> Int {
        lastSweep = now
        if let earliest = earliestExpiry, earliest > now { return 0 }
        var removed = 0
        var earliest: Instant? = nil
        for (aor, bindings) in records {
            let live = bindings.filter { $0.expires > now }
            for b in live where earliest.map({ b.expires < $0 }) ?? true { earliest = b.expires }
            guard live.count != bindings.count else { continue }
            removed += bindings.count - live.count
            records[aor] = live.isEmpty ? nil : live
        }
        earliestExpiry = earliest
        count -= removed
        if removed > 0 { revision &+= 1 }
        return removed
    }

    /// The earliest expiry held (when the driver should sweep next), nil when empty.
    public var nextExpiry: Instant? {
        records.values.lazy.flatMap { $0 }.map(\.expires).min()
    }

    /// Removes every binding of `aor` (administrative removal).
    public mutating func remove(_ aor: AddressOfRecord) {
        guard let held = records[aor] else { return }
        commit(aor, held: held.count, updated: [])
    }

    /// Inserts bindings as they are (used when loading a saved store): no §10.3 rules, but the
    /// caps still hold; returns false when a cap refused one.
    mutating func restore(_ binding: Binding, for aor: AddressOfRecord) -> Bool {
        let held = records[aor] ?? []
        guard held.count < limits.maxContactsPerAOR, count < limits.maxBindings,
              LocationStore.match(binding, in: held) == nil else { return false }
        records[aor] = held + [binding]
        if earliestExpiry.map({ binding.expires < $0 }) ?? true { earliestExpiry = binding.expires }
        count += 1
        return true
    }
}
