// Module Wire: see ARCHITECTURE.md for what it owns.
