import SIPTransaction
import Testing
@testable import SIPUserAgent

@Suite("Registration machine (manual clock)")
struct RegistrationMachineTests {
    let t0 = Instant(nanoseconds: 1_000_000_000_000)

    func at(_ seconds: Double) -> Instant { t0 + .milliseconds(Int64(seconds * 1000)) }

    /// The single send in `actions`, or a recorded issue.
    func sent(_ actions: [RegistrationMachine.Action]) -> (attempt: UInt64, server: Int, expires: Int, credentials: Bool)? {
        let sends = actions.compactMap { a -> (UInt64, Int, Int, Bool)? in
            if case .send(let n, let s, let e, let c) = a { return (n, s, e, c) }
            return nil
        }
        guard sends.count == 1 else { return nil }
        return (sends[0].0, sends[0].1, sends[0].2, sends[0].3)
    }

    func armed(_ actions: [RegistrationMachine.Action]) -> Instant? {
        for a in actions { if case .arm(let at) = a { return at } }
        return nil
    }

    func statuses(_ actions: [RegistrationMachine.Action]) -> [LineStatus] {
        actions.compactMap { if case .status(let s, _) = $0 { return s } else { return nil } }
    }

    @Test func registersAndRefreshesBeforeExpiry() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 3600))
        let first = m.start(now: t0)
        let s = try #require(sent(first))
        #expect(s.server == 0 && s.expires == 3600 && !s.credentials)
        #expect(statuses(first) == [.registering])
        let ok = m.received(.registered(granted: 3600), attempt: s.attempt, now: at(0.2))
        #expect(statuses(ok) == [.up])
        // Refresh 600 s before the end of a long binding.
        #expect(armed(ok) == at(0.2 + 3000))
        #expect(m.isRegistered(now: at(3599)))
        #expect(m.timerFired(now: at(2999)).isEmpty, "not due yet")
        let refresh = m.timerFired(now: at(3000.2))
        let r = try #require(sent(refresh))
        #expect(r.attempt != s.attempt && r.server == 0 && r.expires == 3600)
        #expect(statuses(refresh).isEmpty, "the line stays Up while the binding is valid")
        // A shorter grant than asked: refreshed half-way.
        let short = m.received(.registered(granted: 120), attempt: r.attempt, now: at(3001))
        #expect(armed(short) == at(3001 + 60))
    }

    @Test func challengeIsAnsweredOnceAndWrongCredentialsBackOff() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 600, retryInterval: 30))
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.challenged(answerable: true, stale: false), attempt: a1.attempt, now: at(0.1))))
        #expect(a2.credentials && a2.attempt > a1.attempt && a2.expires == 600)
        // Challenged again, not stale: the password is wrong; back off 15–30 s (50–100 % of 30).
        let refused = m.received(.challenged(answerable: true, stale: false), attempt: a2.attempt, now: at(0.2))
        #expect(sent(refused) == nil)
        #expect(statuses(refused) == [.errorRegistration])
        let retryAt = try #require(armed(refused))
        #expect(retryAt >= at(0.2 + 15) && retryAt <= at(0.2 + 30))
        #expect(m.status == .errorRegistration && m.statusReason.contains("credentials refused"))
        let again = try #require(sent(m.timerFired(now: retryAt)))
        #expect(!again.credentials && again.server == 0)
    }

    @Test func staleNonceIsAnsweredAgain() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy())
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.challenged(answerable: true, stale: false), attempt: a1.attempt, now: t0)))
        let a3 = try #require(sent(m.received(.challenged(answerable: true, stale: true), attempt: a2.attempt, now: t0)))
        #expect(a3.credentials)
        // The attempt bound holds even for stale nonces.
        let a4 = m.received(.challenged(answerable: true, stale: true), attempt: a3.attempt, now: t0)
        #expect(sent(a4) == nil && m.status == .errorRegistration)
    }

    @Test func unanswerableChallengeFails() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy())
        let a1 = try #require(sent(m.start(now: t0)))
        let out = m.received(.challenged(answerable: false, stale: false), attempt: a1.attempt, now: t0)
        #expect(sent(out) == nil && m.status == .errorRegistration)
        #expect(m.statusReason.contains("cannot be answered"))
    }

    @Test func intervalTooBriefRaisesExpiresForGood() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 60))
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.intervalTooBrief(minExpires: 300), attempt: a1.attempt, now: t0)))
        #expect(a2.expires == 300)
        _ = m.received(.registered(granted: 300), attempt: a2.attempt, now: at(1))
        let refresh = try #require(sent(m.timerFired(now: at(151))))
        #expect(refresh.expires == 300, "the raised interval is kept for refreshes")
        // A 423 without a larger Min-Expires cannot be satisfied: a failure, not a loop.
        let bad = m.received(.intervalTooBrief(minExpires: 300), attempt: refresh.attempt, now: at(152))
        #expect(sent(bad) == nil)
        let none = RegistrationMachine.Outcome.intervalTooBrief(minExpires: nil)
        var m2 = RegistrationMachine(policy: RegistrationPolicy(expires: 60))
        let b1 = try #require(sent(m2.start(now: t0)))
        #expect(sent(m2.received(none, attempt: b1.attempt, now: t0)) == nil)
        #expect(m2.status == .errorRegistration)
    }

    @Test func backOffDoublesWithJitterUpToTheCapAndResetsOnSuccess() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 30, maxRetryInterval: 240), seed: 42)
        var attempt = try #require(sent(m.start(now: t0))).attempt
        var now = t0
        var waits: [Double] = []
        for _ in 0..<6 {
            let out = m.received(.failed(status: 500, retryAfter: nil), attempt: attempt, now: now)
            let until = try #require(armed(out))
            waits.append(Double(until.nanoseconds - now.nanoseconds) / 1e9)
            now = until
            attempt = try #require(sent(m.timerFired(now: now))).attempt
        }
        let fulls: [Double] = [30, 60, 120, 240, 240, 240]
        for (w, full) in zip(waits, fulls) {
            #expect(w >= full * 0.5 - 0.001 && w <= full + 0.001, "wait \(w) for a full back-off of \(full)")
        }
        #expect(m.consecutiveFailures == 6)
        _ = m.received(.registered(granted: 3600), attempt: attempt, now: now)
        #expect(m.consecutiveFailures == 0)
        // Two machines with different seeds do not retry in step.
        var other = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 30, maxRetryInterval: 240), seed: 43)
        let o1 = try #require(sent(other.start(now: t0)))
        let ow = try #require(armed(other.received(.failed(status: 500, retryAfter: nil), attempt: o1.attempt, now: t0)))
        #expect(ow != t0 + .milliseconds(Int64(waits[0] * 1000)))
    }

    @Test func retryAfterIsHonoured() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 10))
        let a = try #require(sent(m.start(now: t0)))
        let out = m.received(.failed(status: 500, retryAfter: 120), attempt: a.attempt, now: t0)
        #expect(armed(out) == at(120))
    }

    @Test func forbiddenWaitsTimerLoginRejectedOrStops() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 30, loginRejectedInterval: 900))
        let a = try #require(sent(m.start(now: t0)))
        let out = m.received(.forbidden, attempt: a.attempt, now: t0)
        #expect(armed(out) == at(900))
        #expect(statuses(out) == [.errorRegistration])
        var n = RegistrationMachine(policy: RegistrationPolicy(noLoginRetry: true))
        let b = try #require(sent(n.start(now: t0)))
        let stop = n.received(.forbidden, attempt: b.attempt, now: t0)
        #expect(armed(stop) == nil && n.isStopped && n.status == .errorRegistration)
    }

    @Test func unreachableFailsOverToTheBackupAndReturnsToThePrimary() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 600, serverCount: 2))
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.unreachable(detail: "timeout"), attempt: a1.attempt, now: at(32))))
        #expect(a2.server == 1, "failed over at once to the backup")
        _ = m.received(.registered(granted: 600), attempt: a2.attempt, now: at(32.1))
        #expect(m.boundServer == 1 && m.status == .up)
        #expect(m.statusReason.contains("backup"))
        // The refresh tries the primary first.
        let r1 = try #require(sent(m.timerFired(now: at(332.1))))
        #expect(r1.server == 0)
        // Primary still down: the backup again, without waiting.
        let r2 = try #require(sent(m.received(.unreachable(detail: "timeout"), attempt: r1.attempt, now: at(364))))
        #expect(r2.server == 1)
        _ = m.received(.registered(granted: 600), attempt: r2.attempt, now: at(364.1))
        // Next refresh: the primary is back.
        let r3 = try #require(sent(m.timerFired(now: at(664.1))))
        #expect(r3.server == 0)
        _ = m.received(.registered(granted: 600), attempt: r3.attempt, now: at(664.2))
        #expect(m.boundServer == 0)
    }

    @Test func everyServerUnreachableBacksOffWithErrorNetwork() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 20, serverCount: 2))
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.unreachable(detail: "503"), attempt: a1.attempt, now: t0)))
        let out = m.received(.unreachable(detail: "timeout"), attempt: a2.attempt, now: at(1))
        #expect(sent(out) == nil)
        #expect(statuses(out) == [.errorNetwork])
        let until = try #require(armed(out))
        #expect(until >= at(11) && until <= at(21))
        #expect(try #require(sent(m.timerFired(now: until))).server == 0)
    }

    @Test func failedRefreshRetriesWhileTheBindingIsStillValid() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 120, retryInterval: 600))
        let a = try #require(sent(m.start(now: t0)))
        _ = m.received(.registered(granted: 120), attempt: a.attempt, now: t0)
        let r = try #require(sent(m.timerFired(now: at(60))))
        let out = m.received(.unreachable(detail: "timeout"), attempt: r.attempt, now: at(92))
        // 28 s of binding left: retry within 14 s, not after the 300–600 s back-off; still Up.
        let until = try #require(armed(out))
        #expect(until <= at(92 + 14) && until >= at(93))
        #expect(m.status == .up)
        // Once the binding has ended the failure shows.
        let r2 = try #require(sent(m.timerFired(now: until)))
        let out2 = m.received(.unreachable(detail: "timeout"), attempt: r2.attempt, now: at(130))
        #expect(statuses(out2) == [.errorNetwork])
    }

    @Test func registerAgainOvertakesTheAttemptInFlight() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy())
        let a1 = try #require(sent(m.start(now: t0)))
        _ = m.received(.registered(granted: 3600), attempt: a1.attempt, now: t0)
        let r = try #require(sent(m.timerFired(now: at(3000))))
        let again = try #require(sent(m.registerAgain(now: at(3000.5), reason: "WAN address changed")))
        #expect(again.attempt > r.attempt && again.server == 0)
        // The overtaken attempt's answer changes nothing.
        #expect(m.received(.forbidden, attempt: r.attempt, now: at(3001)).isEmpty)
        #expect(m.pendingAttempt == again.attempt)
        let ok = m.received(.registered(granted: 1800), attempt: again.attempt, now: at(3001))
        #expect(armed(ok) == at(3001 + 1200))
        // A waiting line registers again at once too.
        var w = RegistrationMachine(policy: RegistrationPolicy(retryInterval: 300))
        let b = try #require(sent(w.start(now: t0)))
        _ = w.received(.unreachable(detail: "no route"), attempt: b.attempt, now: t0)
        #expect(sent(w.registerAgain(now: at(1), reason: "link up")) != nil)
    }

    @Test func stopUnregistersAtTheServerHoldingTheBinding() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(serverCount: 2))
        let a1 = try #require(sent(m.start(now: t0)))
        let a2 = try #require(sent(m.received(.unreachable(detail: "x"), attempt: a1.attempt, now: t0)))
        _ = m.received(.registered(granted: 3600), attempt: a2.attempt, now: t0)
        let out = m.stop(now: at(10))
        let u = try #require(sent(out))
        #expect(u.expires == 0 && u.server == 1)
        #expect(statuses(out) == [.deregistering])
        // A challenge on the unregister is answered once.
        let u2 = try #require(sent(m.unregisterChallenged(attempt: u.attempt, answerable: true, now: at(10))))
        #expect(u2.credentials && u2.expires == 0)
        let done = m.received(.registered(granted: 0), attempt: u2.attempt, now: at(10.1))
        #expect(statuses(done) == [.disabled] && m.isStopped)
        #expect(m.stop(now: at(11)).isEmpty)
        #expect(m.registerAgain(now: at(12), reason: "x").isEmpty, "a stopped line stays stopped")
    }

    @Test func stopWithoutBindingStopsAtOnce() {
        var m = RegistrationMachine(policy: RegistrationPolicy())
        _ = m.start(now: t0)
        let out = m.stop(now: at(1))
        #expect(sent(out) == nil && m.isStopped && m.status == .disabled)
    }

    @Test func zeroGrantIsAFailureAndStaleAttemptsAreIgnored() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy())
        let a = try #require(sent(m.start(now: t0)))
        #expect(m.received(.registered(granted: 3600), attempt: a.attempt + 7, now: t0).isEmpty)
        let out = m.received(.registered(granted: 0), attempt: a.attempt, now: t0)
        #expect(sent(out) == nil && m.status == .errorRegistration)
        #expect(m.timerFired(now: t0).isEmpty, "not due")
    }

    @Test func grantLongerThanAskedIsCutAndRaisingMinExpiresIsBounded() throws {
        var m = RegistrationMachine(policy: RegistrationPolicy(expires: 600))
        let a = try #require(sent(m.start(now: t0)))
        let ok = m.received(.registered(granted: Int(UInt32.max)), attempt: a.attempt, now: t0)
        #expect(armed(ok) == at(300), "refresh half-way through the 600 s asked for, not in 136 years")
        var n = RegistrationMachine(policy: RegistrationPolicy(expires: 60))
        var attempt = try #require(sent(n.start(now: t0))).attempt
        var resends = 0
        for raise in 1...10 {
            guard let next = sent(n.received(.intervalTooBrief(minExpires: 60 + raise), attempt: attempt, now: t0)) else { break }
            resends += 1
            attempt = next.attempt
        }
        #expect(resends == 2, "423 resends for one REGISTER: \(resends)")
        #expect(n.status == .errorRegistration)
    }

    @Test func refreshDelayPolicy() {
        let p = RegistrationPolicy()
        #expect(p.refreshDelay(granted: 3600) == 3000)
        #expect(p.refreshDelay(granted: 1200) == 600)
        #expect(p.refreshDelay(granted: 60) == 30)
        #expect(p.refreshDelay(granted: 1) == 1)
        #expect(p.refreshDelay(granted: 4) == 3)
        #expect(p.refreshDelay(granted: 8) == 5, "never sooner than 5 s when the binding allows it")
    }
}
