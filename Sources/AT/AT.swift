// Module AT: see ARCHITECTURE.md for what it owns.
