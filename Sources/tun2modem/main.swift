// tun2modem: the daemon and its CLI (run, probe, stats, flows, status).
print("tun2modem: not yet implemented")
