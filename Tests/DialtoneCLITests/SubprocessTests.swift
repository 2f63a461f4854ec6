import DialtoneTestKit
import Testing

/// The test kit's process runner: exit status, output capture, signals and the timeout.
@Suite struct SubprocessTests {
    @Test func capturesOutputAndExitStatus() throws {
        let result = try runProcess("/bin/sh", ["-c", "printf 'out\\n'; printf 'err' >&2; exit 3"])
        #expect(result.exitStatus == 3)
        #expect(result.signal == nil)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err")
        #expect(!result.timedOut)
    }

    @Test func passesRawArgumentsAndEnvironment() throws {
        let result = try runProcess("/bin/sh", rawArguments: [Array("-c".utf8), Array("printf '%s|%s' \"$1\" \"$X\"".utf8),
                                                               Array("sh".utf8), [0x61, 0xFF, 0x62]],
                                    environment: ["X": "y z"])
        #expect(result.exitStatus == 0)
        #expect(result.stdout == [0x61, 0xFF, 0x62] + Array("|y z".utf8))
    }

    @Test func timeoutKillsTheChild() throws {
        let start = clockSeconds()
        let result = try runProcess("/bin/sh", ["-c", "exec sleep 30"], timeout: 0.5)
        #expect(result.timedOut)
        #expect(result.signal == 9)
        #expect(result.exitStatus == nil)
        #expect(clockSeconds() - start < 10)
    }

    @Test func missingExecutableThrows() {
        #expect(throws: SubprocessError.self) {
            _ = try runProcess("/nonexistent/dialtone-xyz", [])
        }
    }

    @Test func locatesTheBuiltExecutables() throws {
        let dir = try #require(BuiltProducts.directory)
        #expect(BuiltProducts.executable("dialtone") == dir + "/dialtone")
        #expect(BuiltProducts.executable("dialtoned") == dir + "/dialtoned")
        #expect(BuiltProducts.executable("no-such-product") == nil)
    }
}

#if canImport(Glibc)
import Glibc
#endif

private func clockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
