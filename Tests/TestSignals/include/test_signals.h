// Test-only: see test_signals.c.
#ifndef TUN2MODEM_TEST_SIGNALS_H
#define TUN2MODEM_TEST_SIGNALS_H
/// Non-zero once SIGPIPE is ignored in this process (set before main runs).
int test_signals_sigpipe_ignored(void);
#endif
