// Module ModemSim: see ARCHITECTURE.md for what it owns.
