/// Name → addresses from a file in /etc/hosts format (`--hosts FILE`): an address, then
/// names, `#` starts a comment. The emulator's DNS answers from it before the OS resolver.
public struct HostsTable: Sendable {
    public private(set) var entries: [String: [String]] = [:]

    public init() {}

    public init(parsing text: String) {
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else { continue }
            for name in fields.dropFirst() {
                entries[name.lowercased(), default: []].append(fields[0])
            }
        }
    }

    public func addresses(for name: String) -> [String]? { entries[name.lowercased()] }
}
