// C shims for what Swift cannot import directly: variadic ioctl(2) and fcntl(2), function-like
// macros (TUNSETIFF is _IOW('T', 202, int), NLMSG_ALIGN, RTA_ALIGN ...), termios speed
// constants chosen by number, and the headers Glibc's Swift module does not cover
// (epoll, timerfd, signalfd, eventfd, if_tun, rtnetlink). Only `Sys` imports this module.
#ifndef TUN2MODEM_CLINUX_H
#define TUN2MODEM_CLINUX_H

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>

// MARK: ioctl / fcntl (variadic in C, so not importable)

/// ioctl(fd, request, ptr)
int clinux_ioctl_ptr(int fd, unsigned long request, void *argument);
/// ioctl(fd, request, int) — TUNSETPERSIST takes its flag by value.
int clinux_ioctl_int(int fd, unsigned long request, int argument);
/// ioctl(fd, request) — TIOCEXCL takes no argument.
int clinux_ioctl_none(int fd, unsigned long request);
/// fcntl(fd, F_GETFL)
int clinux_fcntl_getfl(int fd);
/// fcntl(fd, F_SETFL, flags)
int clinux_fcntl_setfl(int fd, int flags);
/// fcntl(fd, F_GETFD)
int clinux_fcntl_getfd(int fd);

// MARK: TUN (linux/if_tun.h: function-like _IOW macros)

unsigned long clinux_tunsetiff(void);
unsigned long clinux_tunsetpersist(void);
unsigned long clinux_tiocexcl(void);
unsigned long clinux_tiocnxcl(void);

/// TUNSETIFF with IFF_TUN | IFF_NO_PI on `name` (may be empty: the kernel picks "tunN");
/// the name the kernel gave is copied to `actual` (IFNAMSIZ bytes). Returns ioctl's result.
int clinux_tun_attach(int fd, const char *name, char actual[IFNAMSIZ]);

/// 1 when `fd` is a Unix98 pty slave (/dev/pts/N: majors 136-143), 0 when not, -1 on error.
int clinux_is_pty_slave(int fd);

// MARK: termios speeds

/// The `B*` constant for `rate` bits per second into `*speed`; -1 when Linux has none.
int clinux_baud_constant(unsigned long rate, speed_t *speed);
/// The rate in bits per second that a `B*` constant stands for; 0 when unknown.
unsigned long clinux_baud_rate(speed_t speed);
/// 8N1 raw, CLOCAL|CREAD, VMIN=1/VTIME=0, CRTSCTS when `rtscts` is non-zero.
void clinux_termios_make_raw_8n1(struct termios *t, int rtscts);
/// CRTSCTS is set in t->c_cflag.
int clinux_termios_has_crtscts(const struct termios *t);

// MARK: wait(2) status macros

int clinux_wifexited(int status);
int clinux_wexitstatus(int status);
int clinux_wifsignaled(int status);
int clinux_wtermsig(int status);

// MARK: pty

/// posix_openpt(3), grantpt(3), unlockpt(3): X/Open calls Glibc's module hides.
int clinux_posix_openpt(int flags);
int clinux_grantpt(int fd);
int clinux_unlockpt(int fd);
/// ptsname_r(3): the slave path of pty master `fd` (a GNU extension Glibc's module hides).
int clinux_ptsname_r(int fd, char *buffer, size_t length);

// MARK: descriptors

/// accept4(2) (a GNU extension Glibc's module hides).
int clinux_accept4(int fd, int flags);
/// pipe2(2) (a GNU extension Glibc's module hides).
int clinux_pipe2(int fds[2], int flags);
/// prctl(PR_SET_PDEATHSIG, signal): prctl is variadic, which Swift cannot call.
int clinux_set_parent_death_signal(int signal);
/// IOV_MAX: the most iovecs one readv/writev takes.
int clinux_iov_max(void);

// MARK: namespaces (sched.h, GNU-only)

/// unshare(CLONE_NEWNET): the calling thread gets a new, empty network namespace.
int clinux_unshare_network(void);
/// setns(fd, CLONE_NEWNET): the calling thread joins the namespace `fd` refers to.
int clinux_setns_network(int fd);

// MARK: credentials (GNU-only)

/// getresuid(2) / getresgid(2): real, effective and saved ids.
int clinux_getresuid(uid_t *real, uid_t *effective, uid_t *saved);
int clinux_getresgid(gid_t *real, gid_t *effective, gid_t *saved);

// MARK: processes

/// pidfd_open(2) through syscall(2): a descriptor that turns readable when process `pid`
/// exits (close-on-exec by definition).
int clinux_pidfd_open(pid_t pid);

// MARK: environment

/// `environ`, for posix_spawn.
char **clinux_environ(void);

// MARK: netlink layout (NLMSG_* and RTA_* macros)

unsigned int clinux_nlmsg_align(unsigned int length);
unsigned int clinux_nlmsg_hdrlen(void);
unsigned int clinux_rta_align(unsigned int length);
unsigned int clinux_rta_hdrlen(void);

#endif
