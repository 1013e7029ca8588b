#define _GNU_SOURCE
#include "clinux.h"
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

int clinux_ioctl_ptr(int fd, unsigned long request, void *argument) { return ioctl(fd, request, argument); }
int clinux_ioctl_int(int fd, unsigned long request, int argument) { return ioctl(fd, request, argument); }
int clinux_ioctl_none(int fd, unsigned long request) { return ioctl(fd, request); }
int clinux_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
int clinux_fcntl_setfl(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }
int clinux_fcntl_getfd(int fd) { return fcntl(fd, F_GETFD); }

unsigned long clinux_tunsetiff(void) { return TUNSETIFF; }
unsigned long clinux_tunsetpersist(void) { return TUNSETPERSIST; }
unsigned long clinux_tiocexcl(void) { return TIOCEXCL; }
unsigned long clinux_tiocnxcl(void) { return TIOCNXCL; }

int clinux_tun_attach(int fd, const char *name, char actual[IFNAMSIZ]) {
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    // The caller checked the length; strncpy leaves the last byte zero either way.
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = ioctl(fd, TUNSETIFF, &request);
    if (result == 0) {
        memcpy(actual, request.ifr_name, IFNAMSIZ);
        actual[IFNAMSIZ - 1] = 0;
    }
    return result;
}

int clinux_is_pty_slave(int fd) {
    struct stat status;
    if (fstat(fd, &status) != 0) return -1;
    if (!S_ISCHR(status.st_mode)) return 0;
    unsigned int device_major = major(status.st_rdev);
    return device_major >= 136 && device_major <= 143;   // UNIX98_PTY_SLAVE_MAJOR + 8 majors
}

// Every rate asm-generic/termbits.h defines; Linux has no arbitrary-rate B* constants
// (BOTHER with termios2 would be needed, which ptys and most USB serial drivers ignore).
static const struct { unsigned long rate; speed_t speed; } baud_table[] = {
    {50, B50}, {75, B75}, {110, B110}, {134, B134}, {150, B150}, {200, B200},
    {300, B300}, {600, B600}, {1200, B1200}, {1800, B1800}, {2400, B2400},
    {4800, B4800}, {9600, B9600}, {19200, B19200}, {38400, B38400},
    {57600, B57600}, {115200, B115200}, {230400, B230400}, {460800, B460800},
    {500000, B500000}, {576000, B576000}, {921600, B921600}, {1000000, B1000000},
    {1152000, B1152000}, {1500000, B1500000}, {2000000, B2000000},
    {2500000, B2500000}, {3000000, B3000000}, {3500000, B3500000},
    {4000000, B4000000},
};

int clinux_baud_constant(unsigned long rate, speed_t *speed) {
    for (size_t i = 0; i < sizeof baud_table / sizeof baud_table[0]; i++) {
        if (baud_table[i].rate == rate) { *speed = baud_table[i].speed; return 0; }
    }
    return -1;
}

unsigned long clinux_baud_rate(speed_t speed) {
    for (size_t i = 0; i < sizeof baud_table / sizeof baud_table[0]; i++) {
        if (baud_table[i].speed == speed) return baud_table[i].rate;
    }
    return 0;
}

void clinux_termios_make_raw_8n1(struct termios *t, int rtscts) {
    cfmakeraw(t);   // no echo, no canonical mode, no CR/NL mapping, CS8, no parity
    t->c_cflag &= ~(CSTOPB | PARENB | CRTSCTS | HUPCL);
    t->c_cflag |= CS8 | CLOCAL | CREAD;
    if (rtscts) t->c_cflag |= CRTSCTS;
    t->c_iflag &= ~(IXON | IXOFF | IXANY);
    t->c_cc[VMIN] = 1;
    t->c_cc[VTIME] = 0;
}

int clinux_termios_has_crtscts(const struct termios *t) { return (t->c_cflag & CRTSCTS) != 0; }

int clinux_wifexited(int status) { return WIFEXITED(status); }
int clinux_wexitstatus(int status) { return WEXITSTATUS(status); }
int clinux_wifsignaled(int status) { return WIFSIGNALED(status); }
int clinux_wtermsig(int status) { return WTERMSIG(status); }

int clinux_ptsname_r(int fd, char *buffer, size_t length) { return ptsname_r(fd, buffer, length); }

int clinux_posix_openpt(int flags) { return posix_openpt(flags); }
int clinux_grantpt(int fd) { return grantpt(fd); }
int clinux_unlockpt(int fd) { return unlockpt(fd); }
int clinux_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
int clinux_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int clinux_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }
int clinux_iov_max(void) { return IOV_MAX; }

int clinux_unshare_network(void) { return unshare(CLONE_NEWNET); }
int clinux_setns_network(int fd) { return setns(fd, CLONE_NEWNET); }

int clinux_getresuid(uid_t *real, uid_t *effective, uid_t *saved) { return getresuid(real, effective, saved); }
int clinux_getresgid(gid_t *real, gid_t *effective, gid_t *saved) { return getresgid(real, effective, saved); }

int clinux_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

char **clinux_environ(void) { return environ; }

unsigned int clinux_nlmsg_align(unsigned int length) { return NLMSG_ALIGN(length); }
unsigned int clinux_nlmsg_hdrlen(void) { return NLMSG_HDRLEN; }
unsigned int clinux_rta_align(unsigned int length) { return RTA_ALIGN(length); }
unsigned int clinux_rta_hdrlen(void) { return RTA_LENGTH(0); }
