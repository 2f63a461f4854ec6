/// Why `AtomicFile` could not read or replace a file: the step that failed, the path and `errno`.
public struct AtomicFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        /// The temporary file could not be created (directory missing or not writable, …).
        public static let create = Code("create")
        /// Writing the temporary file failed (disk full, I/O error).
        public static let write = Code("write")
        /// fsync of the temporary file failed: its contents may not be on disk.
        public static let sync = Code("sync")
        /// Renaming the temporary file over the target failed.
        public static let rename = Code("rename")
        /// The file was replaced but fsync of its directory failed: the rename may not survive a
        /// power cut (the old or the new contents will be found, never a mix).
        public static let syncDirectory = Code("sync-directory")
        /// The file exists but could not be opened or read.
        public static let read = Code("read")
        /// The file is larger than the reader accepts.
        public static let tooLarge = Code("too-large")
        public var description: String { rawValue }
    }

    public var code: Code
    /// The file (or, for `syncDirectory`, the directory) concerned.
    public var path: String
    /// `errno` of the failing call, 0 when not from a system call.
    public var errno: Int32
    public var message: String

    public init(_ code: Code, path: String, errno: Int32, message: String) {
        self.code = code
        self.path = path
        self.errno = errno
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
