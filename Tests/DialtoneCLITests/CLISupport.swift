import DialtoneTestKit
import Testing

/// Runs a built executable of the package (`dialtone`, `dialtoned`).
func run(_ product: String, _ arguments: [String], timeout: Double = 60) throws -> ProcessResult {
    let path = try #require(BuiltProducts.executable(product),
                            "\(product) not built next to the test bundle (\(BuiltProducts.directory ?? "?"))")
    let result = try runProcess(path, arguments, timeout: timeout)
    #expect(!result.timedOut, "\(product) \(arguments) timed out")
    #expect(result.signal == nil, "\(product) \(arguments) died of signal \(result.signal ?? 0): \(result.stderrText)")
    return result
}

/// `run` with raw octet arguments.
func run(_ product: String, rawArguments: [[UInt8]], timeout: Double = 60) throws -> ProcessResult {
    let path = try #require(BuiltProducts.executable(product))
    let result = try runProcess(path, rawArguments: rawArguments, timeout: timeout)
    #expect(!result.timedOut)
    #expect(result.signal == nil, "died of signal \(result.signal ?? 0): \(result.stderrText)")
    return result
}

/// One parsed `dialtone sip lint` line.
struct LintLine {
    var json: JSONValue
    var file: String?
    var message: Int?
    var verdict: String?
    var response: JSONValue?
    var reason: String?

    init(_ json: JSONValue) {
        self.json = json
        file = json["file"]?.stringValue
        message = json["message"]?.intValue
        verdict = json["verdict"]?.stringValue
        response = json["response"]
        reason = json["reason"]?.stringValue
    }

    /// The status code in "response", nil for "drop" or null.
    var status: Int? { response?.intValue }
    var isDrop: Bool { response?.stringValue == "drop" }
    var isAccept: Bool { verdict == "accept" }

    /// A short rendering for comparisons: "accept", "drop", "505", "none".
    var outcome: String {
        if isAccept { return "accept" }
        if isDrop { return "drop" }
        if let status { return String(status) }
        return "none"
    }

    /// What is wrong with the line's shape (empty when it follows the documented schema).
    var schemaProblems: [String] {
        var problems: [String] = []
        let allowed: Set<String> = ["file", "message", "verdict", "response", "reason"]
        for key in json.keys where !allowed.contains(key) { problems.append("unexpected member \(key)") }
        if json.keys.count != Set(json.keys).count { problems.append("duplicate member") }
        if file == nil { problems.append("file is not a string") }
        if json["message"] != nil, (message ?? 0) < 1 { problems.append("message is not a positive integer") }
        switch verdict {
        case "accept":
            if response?.isNull != true { problems.append("accept with a response") }
        case "reject":
            if let status {
                if !(400...699).contains(status) { problems.append("response \(status) is not an error status") }
                if reason?.isEmpty != false { problems.append("rejection without a reason phrase") }
            } else if isDrop {
                if reason?.isEmpty != false { problems.append("drop without a reason") }
            } else if response?.isNull == true {
                if reason?.hasPrefix("cannot read file: ") != true { problems.append("reject with null response must be an unreadable file") }
            } else {
                problems.append("response is neither a status code, \"drop\" nor null")
            }
        default:
            problems.append("verdict is \(String(describing: verdict))")
        }
        if let r = json["reason"], !r.isNull, r.stringValue == nil { problems.append("reason is neither a string nor null") }
        if json["reason"] == nil { problems.append("reason missing") }
        if response == nil { problems.append("response missing") }
        return problems
    }
}

/// Runs `dialtone sip lint` and parses its output; every line must be valid JSON following the schema.
func lint(_ arguments: [String], expectExit: Int32? = 0) throws -> (lines: [LintLine], result: ProcessResult) {
    let result = try run("dialtone", ["sip", "lint"] + arguments)
    return (try checkedLines(result, expectExit: expectExit), result)
}

/// `lint` with raw octet arguments.
func lint(rawArguments: [[UInt8]], expectExit: Int32? = 0) throws -> (lines: [LintLine], result: ProcessResult) {
    let result = try run("dialtone", rawArguments: [Array("sip".utf8), Array("lint".utf8)] + rawArguments)
    return (try checkedLines(result, expectExit: expectExit), result)
}

private func checkedLines(_ result: ProcessResult, expectExit: Int32?) throws -> [LintLine] {
    if let expectExit {
        #expect(result.exitStatus == expectExit, "exit \(String(describing: result.exitStatus)); stderr: \(result.stderrText)")
    }
    var lines: [LintLine] = []
    for (n, parsed) in JSONValue.parseLines(result.stdout).enumerated() {
        let json = try #require(parsed, "line \(n + 1) is not valid JSON: \(result.stdoutText)")
        let line = LintLine(json)
        #expect(line.schemaProblems.isEmpty, "line \(n + 1): \(line.schemaProblems)")
        lines.append(line)
    }
    return lines
}

/// Path of an RFC 4475 fixture, e.g. `rfc4475Path("invalid/clerr")`.
func rfc4475Path(_ name: String) -> String { Fixtures.path("rfc4475/\(name).sip") }
