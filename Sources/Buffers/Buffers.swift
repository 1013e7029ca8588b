// Module Buffers: see ARCHITECTURE.md for what it owns.
