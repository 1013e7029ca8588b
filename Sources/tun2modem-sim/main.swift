// tun2modem-sim: the modem emulator's CLI.
print("tun2modem-sim: not yet implemented")
