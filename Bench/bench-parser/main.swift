// bench-parser: SIPCore parse throughput, compared by scripts/bench-parser.sh with libosip2
// (Bench/osip-peer/bench_osip.c), which parses the same corpus bytes the same way.
//
//   bench-parser [--corpus DIR] [--iterations N] [--rounds R]    timed rounds, prints result lines
//   bench-parser [--corpus DIR] --count N [--serialize]           N untimed operations (allocation counting)
//
// One "parse" is what a proxy does to accept a message: `SIPMessage.parse(datagram:)` (start line with
// the Request-URI parsed, header section split into fields, header names looked up, Content-Length
// parsed and checked, body framed) PLUS reading the typed views of the headers it routes on: top Via
// (sent-by, branch, rport), From and To (name-addr and tag), Call-ID, CSeq, Max-Forwards and Contact.
// "parse+serialize" is that plus `serialized()`.
//
// Each round runs N operations cycling over the corpus; the result is the median of R rounds.
// Output (one line each, parsed by the script):
//   corpus messages=<k> bytes=<total>
//   parse msgs_per_s=<median> min=<..> max=<..> rounds=<R> iterations=<N>
//   parse_serialize msgs_per_s=<median> min=<..> max=<..> rounds=<R> iterations=<N>
//   checksum=<n>   (keeps the work observable)
import SIPCore

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Options

struct Options {
    var corpusDir: String = {
        // #filePath = <repo>/Bench/bench-parser/main.swift
        var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/corpus"
    }()
    var iterations = 100_000
    var rounds = 9
    var count: Int? = nil
    var serialize = false

    static func parse(_ arguments: [String]) -> Options {
        var o = Options()
        var args = arguments[...]
        func value(_ name: String) -> String {
            guard let v = args.popFirst() else { fail("\(name) needs a value") }
            return v
        }
        while let arg = args.popFirst() {
            switch arg {
            case "--corpus": o.corpusDir = value(arg)
            case "--iterations": o.iterations = Int(value(arg)) ?? 0
            case "--rounds": o.rounds = Int(value(arg)) ?? 0
            case "--count": o.count = Int(value(arg))
            case "--serialize": o.serialize = true
            case "-h", "--help":
                print("usage: bench-parser [--corpus DIR] [--iterations N] [--rounds R] | [--count N [--serialize]]")
                exit(0)
            default: fail("unknown argument \(arg)")
            }
        }
        guard o.iterations > 0, o.rounds > 0 else { fail("--iterations and --rounds must be positive") }
        return o
    }
}

func fail(_ message: String) -> Never {
    let text = Array("bench-parser: \(message)\n".utf8)
    _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

// MARK: - Corpus

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
        if n <= 0 { break }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

func corpusFiles(_ dir: String) -> [String] {
    guard let d = opendir(dir) else { fail("cannot open corpus directory \(dir)") }
    defer { closedir(d) }
    var names: [String] = []
    while let entry = readdir(d) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        if name.hasSuffix(".sip") { names.append(name) }
    }
    return names.sorted().map { dir + "/" + $0 }
}

func loadCorpus(_ dir: String) -> [[UInt8]] {
    let corpus: [[UInt8]] = corpusFiles(dir).map { path in
        guard let bytes = readFile(path) else { fail("cannot read \(path)") }
        return bytes
    }
    guard !corpus.isEmpty else { fail("no .sip files in \(dir)") }
    return corpus
}

// MARK: - The measured operation

/// Parses like a proxy accepting the message; returns a value derived from every view read.
@inline(never)
func accept(_ datagram: [UInt8]) -> Int {
    do throws(SIPParseError) {
        let m = try SIPMessage.parse(datagram: datagram)
        let via = try m.topVia()
        let from = try m.from()
        let to = try m.to()
        let callID = try m.callID()
        let cseq = try m.cseq()
        let maxForwards = try m.maxForwards() ?? 70
        var contacts = 0
        if case .addresses(let list)? = try m.contact() { contacts = list.count }
        // One term per statement: Swift 6.0.3 cannot type-check the single expression in time.
        var sum = Int(via.port ?? 0)
        sum &+= via.branch?.utf8.count ?? 0
        sum &+= from.tag?.utf8.count ?? 0
        sum &+= to.tag?.utf8.count ?? 0
        sum &+= callID.utf8.count
        sum &+= Int(cseq.sequence)
        sum &+= maxForwards
        sum &+= contacts
        sum &+= m.body.count
        return sum
    } catch {
        fail("corpus message does not parse: \(error)")
    }
}

/// `accept` plus `serialized()` of the same message.
@inline(never)
func parseViewsSerialize(_ datagram: [UInt8]) -> Int {
    do throws(SIPParseError) {
        let m = try SIPMessage.parse(datagram: datagram)
        let via = try m.topVia()
        let from = try m.from()
        let to = try m.to()
        let callID = try m.callID()
        let cseq = try m.cseq()
        let maxForwards = try m.maxForwards() ?? 70
        var contacts = 0
        if case .addresses(let list)? = try m.contact() { contacts = list.count }
        let out = m.serialized()
        // One term per statement: Swift 6.0.3 cannot type-check the single expression in time.
        var sum = Int(via.port ?? 0)
        sum &+= via.branch?.utf8.count ?? 0
        sum &+= from.tag?.utf8.count ?? 0
        sum &+= to.tag?.utf8.count ?? 0
        sum &+= callID.utf8.count
        sum &+= Int(cseq.sequence)
        sum &+= maxForwards
        sum &+= contacts
        sum &+= m.body.count
        sum &+= out.count
        return sum
    } catch {
        fail("corpus message does not parse: \(error)")
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Median, min and max operations per second over `rounds` rounds of `iterations` operations.
func measure(_ name: String, _ corpus: [[UInt8]], iterations: Int, rounds: Int, _ op: ([UInt8]) -> Int) -> Int {
    var checksum = 0
    // Warm-up (caches, lazy globals).
    for i in 0..<min(iterations, 2000) { checksum &+= op(corpus[i % corpus.count]) }
    var rates: [Double] = []
    for _ in 0..<rounds {
        let t0 = now()
        var i = 0
        var k = 0
        while i < iterations {
            checksum &+= op(corpus[k])
            k += 1
            if k == corpus.count { k = 0 }
            i += 1
        }
        rates.append(Double(iterations) / (now() - t0))
    }
    rates.sort()
    let median = rates[rates.count / 2]
    print("\(name) msgs_per_s=\(Int(median)) min=\(Int(rates.first!)) max=\(Int(rates.last!)) rounds=\(rounds) iterations=\(iterations)")
    return checksum
}

func run() {
    let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
    let corpus = loadCorpus(options.corpusDir)
    var checksum = 0
    if let count = options.count {
        // Untimed: exactly `count` operations (for valgrind's allocation count; count 0 is the baseline).
        for i in 0..<count {
            let d = corpus[i % corpus.count]
            checksum &+= options.serialize ? parseViewsSerialize(d) : accept(d)
        }
        print("checksum=\(checksum)")
        return
    }
    print("corpus messages=\(corpus.count) bytes=\(corpus.reduce(0) { $0 + $1.count })")
    checksum &+= measure("parse", corpus, iterations: options.iterations, rounds: options.rounds, accept)
    checksum &+= measure("parse_serialize", corpus, iterations: options.iterations, rounds: options.rounds, parseViewsSerialize)
    print("checksum=\(checksum)")
}

run()
