import Sys

/// The daemon's config file: `key = value` lines with the long options' names (parsed by
/// `OptionTable.parse(configText:path:)`), overridden option by option by the command line.
public enum ConfigFile {
    public static let defaultPath = "/etc/tun2modem.conf"
    /// A config file is a few dozen lines; anything this large is a mistake (a binary, a log).
    public static let maxSize = 64 * 1024

    /// The options in effect: the file's, then the command line's on top.
    ///
    /// The file is `--config PATH` when given (it must exist), else `defaultPath` (which
    /// may be missing: then only the command line counts).
    /// - Throws: `UsageError` naming the file and line of a bad key or value, or why the
    ///   file could not be read.
    public static func load(table: OptionTable, commandLine: ParsedOptions,
                            defaultPath: String = ConfigFile.defaultPath) throws(UsageError) -> ParsedOptions {
        let explicit = commandLine.value("config")
        let path = explicit ?? defaultPath
        guard let text = try self.read(path: path, mustExist: explicit != nil) else { return commandLine }
        let file = try table.parse(configText: text, path: path)
        return file.overridden(by: commandLine)
    }

    /// The file's text; nil when it does not exist and need not.
    public static func read(path: String, mustExist: Bool) throws(UsageError) -> String? {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly)
        } catch {
            if error.errno == .noSuchFileOrDirectory && !mustExist { return nil }
            throw UsageError("config file \(path): \(error.errno?.description ?? "\(error)")")
        }
        let bytes = try self.readAll(fd, path: path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw UsageError("config file \(path): not UTF-8 text")
        }
        return text
    }

    private static func readAll(_ fd: borrowing FileDescriptor, path: String) throws(UsageError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let result = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(SysError) in try fd.read(into: buffer) }
            }
            let n: Int
            switch result {
            case .failure(let error): throw UsageError("config file \(path): \(error.errno?.description ?? "\(error)")")
            case .success(.wouldBlock): n = 0
            case .success(.processed(let count)): n = count
            }
            guard n > 0 else { break }
            bytes += chunk[0..<n]
            guard bytes.count <= Self.maxSize else {
                throw UsageError("config file \(path): larger than \(Self.maxSize / 1024) KiB; is it the right file?")
            }
        }
        return bytes
    }
}
