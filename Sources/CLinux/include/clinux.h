// C shims for what Swift cannot import directly (variadic ioctl, macros such as
// TUNSETIFF and termios speed constants, netlink structure sizes).
#ifndef TUN2MODEM_CLINUX_H
#define TUN2MODEM_CLINUX_H
int clinux_placeholder(void);
#endif
