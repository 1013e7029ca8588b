import Buffers

/// The 3GPP TS 27.007 / V.250 commands every driver needs, answered alike by every model.
/// A dialect sees each command first and may answer it its own way.
extension SimModem {
    func standardCommand(_ c: ATCommand, now: Instant) -> CommandReply {
        switch (c.name, c.form) {
        case ("", .execute):
            return .ok
        case ("E", .execute):
            // ATE0 / ATE1 (V.250 §6.2.4); ATE alone means ATE0.
            let v = c.basicValue ?? 0
            guard v <= 1 else { return .error }
            echo = v == 1
            return .ok
        case ("V", .execute), ("Q", .execute), ("&F", .execute), ("&W", .execute), ("&D", .execute), ("&C", .execute):
            return .ok
        case ("Z", .execute):
            echo = true
            return .ok
        case ("I", .execute):
            respond(profile.manufacturer)
            respond(profile.name)
            respond("Revision: \(profile.revision)")
            return .ok
        case ("+CGMI", .execute):
            respond(profile.manufacturer)
            return .ok
        case ("+CGMM", .execute):
            respond(profile.name)
            return .ok
        case ("+CGMR", .execute):
            respond(profile.revision)
            return .ok
        case ("+CGSN", .execute), ("+GSN", .execute):
            respond(options.imei)
            return .ok
        case ("+CGSN", .set):
            guard c.arguments.count == 1, let n = c.arguments[0].integer, (0...1).contains(n) else { return cmeError(50) }
            respond(n == 1 ? "+CGSN: \"\(options.imei)\"" : options.imei)
            return .ok
        case ("+CIMI", .execute):
            respond(options.imsi)
            return .ok
        case ("+CPIN", .read):
            respond("+CPIN: READY")
            return .ok
        case ("+CSQ", .execute):
            respond(networkAvailable && functionality == 1 ? "+CSQ: 23,99" : "+CSQ: 99,99")
            return .ok
        case ("+CMEE", .set):
            guard c.arguments.count == 1, let n = c.arguments[0].integer, (0...2).contains(n) else { return cmeError(50) }
            cmee = n
            return .ok
        case ("+CMEE", .read):
            respond("+CMEE: \(cmee)")
            return .ok
        case ("+CREG", .read), ("+CGREG", .read), ("+CEREG", .read):
            // 1 = registered, home network (27.007 §7.2).
            let n = registrationReporting[c.name] ?? 0
            respond("\(c.name): \(n),\(isRegistered ? 1 : 2)")
            return .ok
        case ("+CREG", .set), ("+CGREG", .set), ("+CEREG", .set):
            guard c.arguments.count == 1, let n = c.arguments[0].integer, (0...5).contains(n) else { return cmeError(50) }
            registrationReporting[c.name] = n
            return .ok
        case ("+CGDCONT", .set):
            guard let cid = c.arguments.first?.integer, (1...15).contains(cid) else { return cmeError(50) }
            if c.arguments.count == 1 {
                pdpContexts[cid] = nil
                return .ok
            }
            guard let type = c.arguments[1].quotedText,
                  ["IP", "IPV6", "IPV4V6", "NON-IP"].contains(type.uppercased()) else { return cmeError(50) }
            let apn = c.arguments.count > 2 ? c.arguments[2].text : ""
            pdpContexts[cid] = (type.uppercased(), apn)
            return .ok
        case ("+CGDCONT", .read):
            for cid in pdpContexts.keys.sorted() {
                if let ctx = pdpContexts[cid] { respond("+CGDCONT: \(cid),\"\(ctx.type)\",\"\(ctx.apn)\",\"0.0.0.0\",0,0") }
            }
            return .ok
        case ("+CGACT", .set):
            guard c.arguments.count >= 1, let state = c.arguments[0].integer, (0...1).contains(state) else { return cmeError(50) }
            let cids = c.arguments.count > 1 ? c.arguments[1...].compactMap(\.integer) : Array(pdpContexts.keys)
            for cid in cids {
                guard pdpContexts[cid] != nil else { return cmeError(50) }
                if state == 1 {
                    guard networkAvailable, functionality == 1 else { return cmeError(30) }
                    activeContexts[cid] = activeContexts[cid] ?? options.localAddress
                } else {
                    activeContexts[cid] = nil
                }
            }
            return .ok
        case ("+CGACT", .read):
            for cid in pdpContexts.keys.sorted() { respond("+CGACT: \(cid),\(activeContexts[cid] == nil ? 0 : 1)") }
            return .ok
        case ("+CGPADDR", .execute), ("+CGPADDR", .set):
            let cids = c.form == .set ? c.arguments.compactMap(\.integer) : pdpContexts.keys.sorted()
            for cid in cids {
                if let address = activeContexts[cid] { respond("+CGPADDR: \(cid),\"\(address)\"") } else if pdpContexts[cid] != nil { respond("+CGPADDR: \(cid)") }
            }
            return .ok
        case ("+CFUN", .read):
            respond("+CFUN: \(functionality)")
            return .ok
        case ("+CFUN", .set):
            guard let fun = c.arguments.first?.integer, [0, 1, 4].contains(fun) else { return cmeError(50) }
            let reset = c.arguments.count > 1 ? c.arguments[1].integer : 0
            guard let reset, (0...1).contains(reset) else { return cmeError(50) }
            if reset == 1 {
                // 27.007 §8.2: <rst>=1 resets the MT before setting <fun>. OK comes first, then
                // the module restarts and prints RDY and its boot URCs.
                schedule(at: now + .milliseconds(50)) { modem, t in modem.inject(.reboot, now: t) }
                return .ok
            }
            functionality = fun
            if fun != 1 { activeContexts.removeAll() }
            return .ok
        case ("+IPR", .set):
            guard c.arguments.count == 1, let rate = c.arguments[0].integer,
                  [0, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600].contains(rate) else { return cmeError(50) }
            baudRate = rate
            return .ok
        case ("+CCLK", .read):
            // 27.007 §8.15, quoted; OneMO's NB modules print it bare (onemo.md §5.15).
            let text = clock.text(of: clock.unixTime(at: now))
            respond(profile.dialect == .oneMONB ? "+CCLK: \(text)" : "+CCLK: \"\(text)\"")
            return .ok
        case ("+IPR", .read):
            respond("+IPR: \(baudRate)")
            return .ok
        case (_, .test) where ["+CGMM", "+CGMR", "+CGSN", "+CIMI", "+CSQ", "+CGMI"].contains(c.name):
            return .ok
        default:
            return .unknown
        }
    }

    var isRegistered: Bool { networkAvailable && functionality == 1 }
}
