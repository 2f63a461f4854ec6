#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Config
import DialtoneTestKit

@Suite struct AtomicFileTests {
    func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test func writeReplacesAndReadReturnsTheBytes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/store.json"
        #expect(try AtomicFile.read(path, maxBytes: 100) == nil)
        try AtomicFile.write(Array("first".utf8), to: path)
        #expect(try AtomicFile.read(path, maxBytes: 100) == Array("first".utf8))
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(big, to: path)
        #expect(try AtomicFile.read(path, maxBytes: 1 << 20) == big)
        #expect(!exists(AtomicFile.paths(for: path).temporary))
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
    }

    @Test func readRefusesFilesLargerThanTheLimit() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("big", [UInt8](repeating: 0x41, count: 1000))
        #expect(throws: AtomicFileError.self) { try AtomicFile.read(path, maxBytes: 999) }
        do {
            _ = try AtomicFile.read(path, maxBytes: 999)
        } catch {
            #expect(error.code == .tooLarge)
        }
        #expect(try AtomicFile.read(path, maxBytes: 1000)?.count == 1000)
    }

    @Test func temporaryFileSitsBesideTheTarget() {
        #expect(AtomicFile.paths(for: "/etc/dialtone/location.json") == ("/etc/dialtone", "/etc/dialtone/.location.json.tmp"))
        #expect(AtomicFile.paths(for: "/top.json") == ("/", "/.top.json.tmp"))
        #expect(AtomicFile.paths(for: "plain.json") == (".", ".plain.json.tmp"))
    }

    @Test(arguments: [AtomicFile.Step.create, .write, .sync, .rename])
    func aFailedWriteLeavesTheOldFileIntact(step: AtomicFile.Step) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("config.json", Array("old contents".utf8))
        let new = [UInt8](repeating: 0x7A, count: 10_000)
        var failure: AtomicFileError?
        do {
            try AtomicFile.write(new, to: path, permissions: 0o600, failingAt: step)
        } catch {
            failure = error
        }
        #expect(failure != nil)
        #expect(try AtomicFile.read(path, maxBytes: 1 << 20) == Array("old contents".utf8))
        #expect(!exists(AtomicFile.paths(for: path).temporary))
    }

    @Test func directorySyncFailureIsReportedAfterTheReplacement() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("config.json", Array("old".utf8))
        do {
            try AtomicFile.write(Array("new".utf8), to: path, permissions: 0o600, failingAt: .syncDirectory)
            Issue.record("no error reported")
        } catch {
            #expect(error.code == .syncDirectory)
        }
        #expect(try AtomicFile.read(path, maxBytes: 100) == Array("new".utf8))
    }

    @Test func unwritableDirectoryFailsWithoutTouchingTheFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("config.json", Array("old".utf8))
        // A directory where the temporary file would go stops the write for any user, root included.
        #expect(mkdir(AtomicFile.paths(for: path).temporary, 0o700) == 0)
        defer { rmdir(AtomicFile.paths(for: path).temporary) }
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Array("new".utf8), to: path) }
        #expect(try AtomicFile.read(path, maxBytes: 100) == Array("old".utf8))
        // And a missing directory.
        #expect(throws: AtomicFileError.self) { try AtomicFile.write(Array("new".utf8), to: dir.path + "/missing/config.json") }
        // Permissions only stop a non-root user.
        if geteuid() != 0 {
            let sub = dir.path + "/ro"
            #expect(mkdir(sub, 0o500) == 0)
            defer { rmdir(sub) }
            #expect(throws: AtomicFileError.self) { try AtomicFile.write(Array("new".utf8), to: sub + "/f.json") }
        }
    }
}
