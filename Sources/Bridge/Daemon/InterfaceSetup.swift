import Sys

/// The TUN interface's network configuration through netlink (no `ip` shelling out): MTU,
/// address, link up, routes; and its removal on exit.
enum InterfaceSetup {
    static func configure(name: String, mtu: Int, address: IPPrefix, routes: [IPPrefix]) throws(DaemonError) {
        do {
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: name)
            try netlink.setMTU(mtu, link: index)
            do {
                try netlink.addAddress(address, link: index)
            } catch where error.errno == .fileExists {
                // A persistent TUN from an earlier run keeps its address.
            }
            try netlink.setLinkUp(true, link: index)
            for route in routes {
                do {
                    try netlink.addRoute(route, link: index)
                } catch where error.errno == .fileExists {
                    // Already there (a persistent TUN, or the address's own subnet route).
                }
            }
        } catch {
            throw DaemonError("cannot configure \(name): \(error)", fix: "run as root or with CAP_NET_ADMIN; check --address and --route")
        }
    }

    /// Removes what `configure` added; errors are reported, not thrown (the daemon is ending).
    static func remove(name: String, address: IPPrefix, routes: [IPPrefix]) -> [String] {
        var problems: [String] = []
        do {
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: name)
            for route in routes {
                do { try netlink.removeRoute(route, link: index) } catch { problems.append("\(error)") }
            }
            do { try netlink.removeAddress(address, link: index) } catch { problems.append("\(error)") }
            do { try netlink.setLinkUp(false, link: index) } catch { problems.append("\(error)") }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
