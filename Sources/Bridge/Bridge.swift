// Module Bridge: see ARCHITECTURE.md for what it owns.
